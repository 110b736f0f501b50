/* eslint-disable @typescript-eslint/no-explicit-any -- wire bodies are read loosely, then asserted exactly */
/**
 * POST /v1/embeddings on a server started with an embedding model, through app.request(): the
 * list body, input_type (field or model suffix), truncate, dimensions, base64, batches, the
 * engine's prefill timing and metrics, and which routes each kind of model has (docs/embeddings.md).
 */
import { describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from '../helpers/prom-text.js';
import { createRooflinePerfModel } from '../../src/engine/roofline.js';
import { postJson, testService } from '../helpers/service.js';

const E5 = 'nvidia/nv-embedqa-e5-v5';
const LLAMA_EMBED = 'nvidia/llama-3.2-nv-embedqa-1b-v2';
const QUESTION = 'What is the population of Pittsburgh?';

async function json(res: Response): Promise<any> {
  return (await res.json()) as any;
}
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

describe('POST /v1/embeddings (nv-embedqa-e5-v5)', () => {
  const service = testService({ modelName: E5 });
  const embed = (body: Record<string, unknown>) =>
    postJson(service, '/v1/embeddings', { model: E5, ...body });

  it('answers a list of unit vectors of 1024 floats in input order, with usage', async () => {
    const inputs = [QUESTION, 'Pittsburgh has about 300,000 people.', 'Two eggs and a cup of flour.'];
    const res = await embed({ input: inputs, input_type: 'passage' });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(Object.keys(body)).toEqual(['object', 'data', 'model', 'usage']);
    expect(body.object).toBe('list');
    expect(body.model).toBe(E5);
    expect(body.data.map((d: any) => [d.index, d.object, d.embedding.length])).toEqual([
      [0, 'embedding', 1024],
      [1, 'embedding', 1024],
      [2, 'embedding', 1024],
    ]);
    for (const d of body.data) expect(dot(d.embedding, d.embedding)).toBeCloseTo(1, 5);
    // Each input is embedded on its own: the batch is its inputs one by one.
    let tokens = 0;
    for (const [i, input] of inputs.entries()) {
      const single = await json(await embed({ input, input_type: 'passage' }));
      expect(single.data[0].embedding).toEqual(body.data[i].embedding);
      tokens += single.usage.prompt_tokens;
    }
    expect(body.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it('needs input_type (asymmetric model), or its -query / -passage model suffix', async () => {
    const refused = await embed({ input: QUESTION });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error).toMatchObject({
      message: "'input_type' parameter is required for asymmetric models",
      type: 'BadRequestError',
      param: 'input_type',
    });
    const field = await json(await embed({ input: QUESTION, input_type: 'query' }));
    const suffix = await json(await embed({ model: `${E5}-query`, input: QUESTION }));
    expect(suffix.data[0].embedding).toEqual(field.data[0].embedding);
    expect(suffix.model).toBe(`${E5}-query`);
    const passage = await json(await embed({ input: QUESTION, input_type: 'passage' }));
    expect(dot(field.data[0].embedding, passage.data[0].embedding)).toBeLessThan(0.99);
  });

  it('refuses an input over 512 tokens unless truncate says which end to keep', async () => {
    const long = `${'alpha '.repeat(600)}${'omega '.repeat(600)}`;
    const refused = await embed({ input: ['short', long], input_type: 'passage' });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error).toMatchObject({
      message: expect.stringMatching(/^Input length \d+ exceeds maximum allowed token size 512$/),
      param: 'input.1',
    });
    const end = await json(await embed({ input: long, input_type: 'passage', truncate: 'END' }));
    const start = await json(await embed({ input: long, input_type: 'passage', truncate: 'START' }));
    expect(end.usage.prompt_tokens).toBe(512);
    expect(start.usage.prompt_tokens).toBe(512);
    const alpha = await json(await embed({ input: 'alpha alpha alpha', input_type: 'passage' }));
    const omega = await json(await embed({ input: 'omega omega omega', input_type: 'passage' }));
    // The vector is of what was kept: END keeps the alphas, START the omegas.
    const [e, s, a, o] = [end, start, alpha, omega].map((b) => b.data[0].embedding as number[]);
    expect(dot(e!, a!)).toBeGreaterThan(0.9);
    expect(dot(e!, o!)).toBeLessThan(0.3);
    expect(dot(s!, o!)).toBeGreaterThan(0.9);
    expect(dot(s!, a!)).toBeLessThan(0.3);
  });

  it('refuses dimensions other than 1024 (no dynamic sizes)', async () => {
    const res = await embed({ input: QUESTION, input_type: 'query', dimensions: 512 });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toBe(
      'This model does not support dynamic embedding sizes; dimensions must be 1024.',
    );
    expect((await embed({ input: QUESTION, input_type: 'query', dimensions: 1024 })).status).toBe(200);
  });

  it('encodes base64 as the float32 values of the float answer', async () => {
    const floats = await json(await embed({ input: QUESTION, input_type: 'query' }));
    const b64 = await json(await embed({ input: QUESTION, input_type: 'query', encoding_format: 'base64' }));
    const bytes = Buffer.from(b64.data[0].embedding as string, 'base64');
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, 1024))).toEqual(
      floats.data[0].embedding,
    );
  });

  it('has no generation routes, as an embedding NIM', async () => {
    for (const path of ['/v1/chat/completions', '/v1/completions', '/v1/messages', '/tokenize']) {
      const res = await postJson(service, path, { model: E5, messages: [{ role: 'user', content: 'hi' }] });
      expect(res.status).toBe(404);
    }
    const openapi = await json(await service.app.request('/openapi.json'));
    expect(Object.keys(openapi.paths)).toContain('/v1/embeddings');
    expect(Object.keys(openapi.paths)).not.toContain('/v1/chat/completions');
  });

  it('refuses a batch the waiting queue cannot take, as any request', async () => {
    const small = testService({ modelName: E5, maxWaiting: '4' });
    const res = await postJson(small, '/v1/embeddings', {
      model: E5,
      input: ['a', 'b', 'c', 'd', 'e'],
      input_type: 'passage',
    });
    expect(res.status).toBe(429);
    expect((await json(res)).error.message).toMatch(
      /more than the waiting queue holds \(4, NIMSIM_MAX_WAITING\)/,
    );
  });
});

describe('POST /v1/embeddings (llama-3.2-nv-embedqa-1b-v2)', () => {
  const service = testService({ modelName: LLAMA_EMBED });
  const embed = (body: Record<string, unknown>) =>
    postJson(service, '/v1/embeddings', { model: LLAMA_EMBED, input_type: 'query', ...body });

  it('answers 2048 floats, or a shorter Matryoshka length: the full vector cut and rescaled', async () => {
    const full = (await json(await embed({ input: QUESTION }))).data[0].embedding as number[];
    expect(full).toHaveLength(2048);
    for (const dimensions of [384, 512, 768, 1024]) {
      const short = (await json(await embed({ input: QUESTION, dimensions }))).data[0].embedding as number[];
      expect(short).toHaveLength(dimensions);
      const prefix = full.slice(0, dimensions);
      const scale = 1 / Math.sqrt(dot(prefix, prefix));
      short.forEach((x, i) => expect(x).toBeCloseTo(prefix[i]! * scale, 6));
    }
    const refused = await embed({ input: QUESTION, dimensions: 300 });
    expect(refused.status).toBe(400);
    expect((await json(refused)).error.message).toBe(
      'dimensions 300 is not supported by this model; supported: 384, 512, 768, 1024, 2048.',
    );
  });

  it('takes 8192 tokens, and the engine times each input as a prefill that generates nothing', async () => {
    const timed = testService({ modelName: LLAMA_EMBED });
    const latency = async () =>
      sampleValue(
        parseExposition(await (await timed.app.request('/metrics')).text()),
        'vllm:e2e_request_latency_seconds_sum',
      );
    const short = await json(
      await postJson(timed, '/v1/embeddings', { model: LLAMA_EMBED, input_type: 'query', input: QUESTION }),
    );
    const afterShort = await latency();
    const long = await json(
      await postJson(timed, '/v1/embeddings', {
        model: LLAMA_EMBED,
        input_type: 'passage',
        input: 'lorem ipsum '.repeat(6000),
        truncate: 'END',
      }),
    );
    expect(long.usage.prompt_tokens).toBe(8192);
    const afterLong = (await latency()) - afterShort;
    // The long input costs at least its prefill's extra GPU time over the short one's, as the
    // deployment's step-time model gives it (more if the engine splits it into chunks); both pay
    // the same front-end intake and fixed step costs, which a ratio of the two would weigh in.
    const perf = createRooflinePerfModel(timed.runtime.deployment.roofline);
    const prefillS = (tokens: number) =>
      perf.stepMs({
        decodeSeqs: 0,
        decodeContextTokens: 0,
        prefillChunks: [{ tokens, contextTokens: 0 }],
        hostLoadTokens: 0,
      }) / 1000;
    const extraPrefillS = prefillS(8192) - prefillS(short.usage.prompt_tokens);
    expect(extraPrefillS).toBeGreaterThan(3 * afterShort);
    expect(afterLong - afterShort).toBeGreaterThanOrEqual(extraPrefillS * (1 - 1e-9));
    const exp = parseExposition(await (await timed.app.request('/metrics')).text());
    expect(sampleValue(exp, 'vllm:prompt_tokens_total')).toBe(short.usage.prompt_tokens + 8192);
    expect(sampleValue(exp, 'vllm:generation_tokens_total')).toBe(0);
    expect(sampleValue(exp, 'vllm:request_success_total', { finished_reason: 'stop' })).toBe(2);
    expect(timed.runtime.engine.stats().kvBlocksInUse).toBe(0);
  });

  it('does not read the prefix cache: the same input twice costs the same prefill', async () => {
    const fresh = testService({ modelName: LLAMA_EMBED });
    const body = { model: LLAMA_EMBED, input_type: 'passage', input: 'lorem ipsum '.repeat(1000) };
    await (await postJson(fresh, '/v1/embeddings', body)).text();
    await (await postJson(fresh, '/v1/embeddings', body)).text();
    const exp = parseExposition(await (await fresh.app.request('/metrics')).text());
    expect(sampleValue(exp, 'vllm:prefix_cache_hits_total')).toBe(0);
  });
});

describe('admission on /v1/embeddings', () => {
  it('is behind the API key and draws faults as the generation routes do', async () => {
    const service = testService({ modelName: E5, apiKey: 'sk-e', faultHeaders: '1' });
    const body = { model: E5, input: QUESTION, input_type: 'query' };
    expect((await postJson(service, '/v1/embeddings', body)).status).toBe(401);
    const auth = { authorization: 'Bearer sk-e' };
    expect((await postJson(service, '/v1/embeddings', body, auth)).status).toBe(200);
    const limited = await postJson(service, '/v1/embeddings', body, {
      ...auth,
      'x-nimsim-fault': 'rate_limit',
    });
    expect(limited.status).toBe(429);
    expect((await json(limited)).error.type).toBe('RateLimitError');
  });
});

describe('a generative model', () => {
  it('has no /v1/embeddings route', async () => {
    const service = testService();
    const res = await postJson(service, '/v1/embeddings', {
      model: 'meta/llama-3.1-8b-instruct',
      input: 'hi',
    });
    expect(res.status).toBe(404);
    expect((await json(res)).error.message).toBe('Route POST /v1/embeddings not found.');
  });
});
