/**
 * POST /v1/responses with previous_response_id through app.request(): the conversation carried
 * over (and the prefix cache it hits), instructions not carried over, function calls carried over,
 * the 404 of an unknown or unstored id, and the store's bound (docs/responses.md).
 */
import { describe, expect, it } from 'vitest';
import { MODEL, WEATHER_TOOL, responsesServer, type Json } from '../helpers/responses.js';
import { postJson } from '../helpers/service.js';

const BLOCK = 16;

describe('previous_response_id', () => {
  it("continues the conversation: the second turn reuses the first turn's prefix from the KV cache", async () => {
    const server = responsesServer({ kvBlockSize: String(BLOCK) });
    const first = await server.create({
      input: 'Tell me a long story about a lighthouse keeper.',
      seed: 5,
    });
    const second = await server.create({
      input: 'And then?',
      previous_response_id: first.body.id,
      seed: 5,
    });
    expect(second.status).toBe(200);
    expect(second.body.previous_response_id).toBe(first.body.id);
    const cached = second.body.usage.input_tokens_details.cached_tokens as number;
    // At least every whole block of the first prompt; the answer's blocks may be cached too.
    expect(cached).toBeGreaterThanOrEqual(Math.floor(first.body.usage.input_tokens / BLOCK) * BLOCK);
    expect(cached).toBeGreaterThan(0);
    expect(cached % BLOCK).toBe(0);
    expect(cached).toBeLessThan(second.body.usage.input_tokens);
    // The prompt is the first turn's messages, its answer, then the new input.
    const tokens = (await (
      await postJson(server.service, '/tokenize', {
        model: MODEL,
        messages: [
          { role: 'user', content: 'Tell me a long story about a lighthouse keeper.' },
          { role: 'assistant', content: first.body.output[0].content[0].text },
          { role: 'user', content: 'And then?' },
        ],
      })
    ).json()) as Json;
    expect(second.body.usage.input_tokens).toBe(tokens.count);
  });

  it("does not carry the previous instructions over (OpenAI: only this request's apply)", async () => {
    const server = responsesServer();
    const first = await server.create({ instructions: 'Speak like a pirate.', input: 'Hello' });
    const second = await server.create({ input: 'Bye', previous_response_id: first.body.id });
    const third = await server.create({
      instructions: 'Be formal.',
      input: 'Bye',
      previous_response_id: first.body.id,
    });
    const count = async (messages: Json[]) =>
      ((await (await postJson(server.service, '/tokenize', { model: MODEL, messages })).json()) as Json)
        .count as number;
    const history = [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: first.body.output[0].content[0].text },
      { role: 'user', content: 'Bye' },
    ];
    expect(second.body.usage.input_tokens).toBe(await count(history));
    expect(third.body.usage.input_tokens).toBe(
      await count([{ role: 'system', content: 'Be formal.' }, ...history]),
    );
  });

  it('carries a function call over, so the next turn can send only its output', async () => {
    const server = responsesServer();
    const first = await server.create({ input: 'What is the weather in Paris?', tools: [WEATHER_TOOL] });
    const call = first.body.output[0];
    expect(call.type).toBe('function_call');
    const second = await server.create({
      previous_response_id: first.body.id,
      tools: [WEATHER_TOOL],
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21 C' }],
    });
    expect(second.status).toBe(200);
    expect(second.body.output[0].type).toBe('message');
    expect(second.body.usage.input_tokens_details.cached_tokens).toBeGreaterThan(0);
  });

  it('answers 404 as vLLM does for an unknown id, and for a response sent with store: false', async () => {
    const server = responsesServer();
    const unknown = await server.post({
      input: 'x',
      previous_response_id: 'resp_nope',
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: {
        message: "Response with id 'resp_nope' not found.",
        type: 'invalid_request_error',
        param: 'previous_response_id',
        code: 404,
      },
    });
    const unstored = await server.create({ input: 'x', store: false, max_output_tokens: 2 });
    expect((await server.create({ input: 'y', previous_response_id: unstored.body.id })).status).toBe(404);
  });

  it('keeps NIMSIM_RESPONSES_STORE_SIZE responses, least recently used out; 0 keeps none', async () => {
    const server = responsesServer({ responsesStoreSize: '2' });
    const ids: string[] = [];
    for (const input of ['a', 'b'])
      ids.push((await server.create({ input, max_output_tokens: 2 })).body.id as string);
    // Using the first makes the second the least recently used.
    const third = await server.create({ input: 'c', previous_response_id: ids[0], max_output_tokens: 2 });
    expect(third.status).toBe(200);
    expect((await server.create({ input: 'd', previous_response_id: ids[1] })).status).toBe(404);
    expect(
      (await server.create({ input: 'e', previous_response_id: ids[0], max_output_tokens: 2 })).status,
    ).toBe(200);

    const none = responsesServer({ responsesStoreSize: '0' });
    const kept = await none.create({ input: 'a', max_output_tokens: 2 });
    expect((await none.create({ input: 'b', previous_response_id: kept.body.id })).status).toBe(404);
  });
});
