/**
 * POST /v1/responses with `stream: true` through app.request(): the typed event sequence and its
 * sequence numbers, deltas that add up to the final response, tool calls and reasoning as events,
 * the disconnect that frees the slot and KV blocks, and what chat's machinery adds (rules,
 * faults, per-request stats, the API key) — docs/responses.md.
 */
import { describe, expect, it } from 'vitest';
import { GPT_OSS, MODEL, responsesServer, type Json } from '../helpers/responses.js';

const types = (events: { data: Json }[]) => events.map((e) => e.data.type as string);

describe('streamed responses', () => {
  const server = responsesServer();

  it('sends the typed events in order, numbered from 0, named by `event:`, without [DONE]', async () => {
    const events = await server.stream({
      input: 'Tell me about the weather.',
      max_output_tokens: 12,
      seed: 4,
    });
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    for (const e of events) expect(e.event).toBe(e.data.type);
    const t = types(events);
    const deltas = t.filter((x) => x === 'response.output_text.delta').length;
    expect(deltas).toBeGreaterThan(0);
    expect(t).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array<string>(deltas).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const created = events[0]!.data.response;
    expect(created).toMatchObject({ status: 'in_progress', output: [], usage: null, model: MODEL });
    expect(events[1]!.data.response).toEqual(created);
  });

  it('streams deltas that add up to the text of the final response, under the same ids', async () => {
    const events = await server.stream({ input: 'Tell me about the weather.', seed: 9 });
    const final = events.at(-1)!.data.response;
    expect(final.status).toBe('completed');
    expect(final.id).toBe(events[0]!.data.response.id);
    const text = events
      .filter((e) => e.data.type === 'response.output_text.delta')
      .map((e) => e.data.delta as string)
      .join('');
    const message = final.output[0];
    expect(message.content[0].text).toBe(text);
    expect(events.find((e) => e.data.type === 'response.output_text.done')!.data.text).toBe(text);
    const added = events.find((e) => e.data.type === 'response.output_item.added')!.data;
    expect(added.item).toEqual({
      id: message.id,
      type: 'message',
      role: 'assistant',
      content: [],
      status: 'in_progress',
    });
    expect(events.find((e) => e.data.type === 'response.output_item.done')!.data.item).toEqual(message);
    for (const e of events.filter((x) => x.data.item_id !== undefined)) {
      expect(e.data).toMatchObject({ item_id: message.id, output_index: 0, content_index: 0 });
    }
    // The same request without stream answers the same text and usage.
    const whole = (await (
      await server.post({ input: 'Tell me about the weather.', seed: 9 })
    ).json()) as Json;
    expect(whole.output[0].content[0].text).toBe(text);
    expect(whole.usage.output_tokens).toBe(final.usage.output_tokens);
    expect(whole.usage.input_tokens).toBe(final.usage.input_tokens);
  });

  it('streams a tool call as function_call_arguments deltas that add up to its arguments', async () => {
    const tool = {
      type: 'function',
      name: 'get_weather',
      description: 'Get the weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    };
    const events = await server.stream({ input: 'What is the weather in Oslo?', tools: [tool] });
    const t = types(events);
    expect(t.slice(0, 3)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added']);
    expect(t.slice(-3)).toEqual([
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const call = events.at(-1)!.data.response.output[0];
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    const added = events[2]!.data.item;
    expect(added).toEqual({ ...call, arguments: '', status: 'in_progress' });
    const args = events
      .filter((e) => e.data.type === 'response.function_call_arguments.delta')
      .map((e) => e.data.delta as string)
      .join('');
    expect(args).toBe(call.arguments);
    expect(events.at(-3)!.data).toMatchObject({
      item_id: call.id,
      name: 'get_weather',
      arguments: call.arguments,
    });
  });

  it('aborts the generation when the client goes away, freeing its slot and KV blocks', async () => {
    const slow = responsesServer({ timeScale: '1' });
    const res = await slow.post({
      input: 'Write a very long story.',
      max_output_tokens: 4000,
      ignore_eos: true,
      stream: true,
    });
    const reader = res.body!.getReader();
    for (let i = 0; i < 6; i++) await reader.read();
    expect(slow.service.runtime.engine.stats().running).toBe(1);
    await reader.cancel();
    const deadline = Date.now() + 2000;
    let stats = slow.service.runtime.engine.stats();
    while ((stats.running > 0 || stats.kvBlocksInUse > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      stats = slow.service.runtime.engine.stats();
    }
    expect([stats.running, stats.waiting, stats.kvBlocksInUse]).toEqual([0, 0, 0]);
  });

  it('ends with one error event when the engine fails the request after the stream began', async () => {
    const slow = responsesServer({ timeScale: '1' });
    const res = await slow.post({
      input: 'Write a very long story.',
      max_output_tokens: 4000,
      ignore_eos: true,
      stream: true,
    });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    while (!text.includes('response.output_text.delta')) text += dec.decode((await reader.read()).value);
    // The drain timeout cuts the running request off in-band (engine.ts `drain`).
    await slow.service.runtime.engine.drain(20);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    const events = text
      .trim()
      .split('\n\n')
      .map((frame) => JSON.parse(frame.split('\n')[1]!.slice('data: '.length)) as Json);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.at(-2)!.type).toBe('response.output_text.delta');
    expect(events.at(-1)).toEqual({
      type: 'error',
      sequence_number: events.length - 1,
      code: 503,
      message: 'The server shut down before the request finished.',
      param: null,
    });
    expect(slow.service.runtime.engine.stats().kvBlocksInUse).toBe(0);
  });

  it('stores a streamed response for previous_response_id unless store is false', async () => {
    const events = await server.stream({ input: 'Hello', max_output_tokens: 4 });
    const id = events.at(-1)!.data.response.id as string;
    const next = await server.post({ input: 'More', previous_response_id: id });
    expect(next.status).toBe(200);
    const unstored = await server.stream({ input: 'Hello', max_output_tokens: 4, store: false });
    const gone = await server.post({
      input: 'More',
      previous_response_id: unstored.at(-1)!.data.response.id,
    });
    expect(gone.status).toBe(404);
  });
});

describe('reasoning models', () => {
  const server = responsesServer({
    modelName: GPT_OSS,
    gpu: 'h200',
    meanReasoningTokens: '60',
    meanOutputTokens: '20',
  });

  it('answer with a reasoning item, then the message, and count reasoning_tokens', async () => {
    const res = await server.post({ model: GPT_OSS, input: 'Is 9.11 larger than 9.8?', seed: 2 });
    const body = (await res.json()) as Json;
    expect(body.output.map((i: Json) => i.type)).toEqual(['reasoning', 'message']);
    const reasoning = body.output[0];
    expect(reasoning.id).toMatch(/^rs_[0-9a-f]{32}$/);
    expect(reasoning).toMatchObject({ summary: [], status: null });
    expect(reasoning.content).toEqual([{ type: 'reasoning_text', text: expect.stringMatching(/\S/) }]);
    const usage = body.usage;
    expect(usage.output_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(usage.output_tokens_details.reasoning_tokens).toBeLessThan(usage.output_tokens);
  });

  it('reason longer at reasoning.effort high than at low (gpt-oss)', async () => {
    const tokens = async (effort: string) =>
      (
        (await (
          await server.post({ model: GPT_OSS, input: 'Why?', seed: 8, reasoning: { effort } })
        ).json()) as Json
      ).usage.output_tokens_details.reasoning_tokens as number;
    expect(await tokens('high')).toBeGreaterThan(await tokens('low'));
  });

  it('stream the reasoning as reasoning_text deltas in its own item before the message', async () => {
    const events = await server.stream({ model: GPT_OSS, input: 'Is 9.11 larger than 9.8?', seed: 2 });
    const t = types(events);
    const firstReasoning = t.indexOf('response.reasoning_text.delta');
    const firstText = t.indexOf('response.output_text.delta');
    expect(firstReasoning).toBeGreaterThan(0);
    expect(firstText).toBeGreaterThan(t.lastIndexOf('response.reasoning_text.delta'));
    expect(t.slice(2, 4)).toEqual(['response.output_item.added', 'response.content_part.added']);
    expect(events[3]!.data.part).toEqual({ type: 'reasoning_text', text: '' });
    const final = events.at(-1)!.data.response;
    const reasoningText = events
      .filter((e) => e.data.type === 'response.reasoning_text.delta')
      .map((e) => e.data.delta as string)
      .join('');
    expect(final.output[0].content[0].text).toBe(reasoningText);
    const messageAdded = events.find(
      (e) => e.data.type === 'response.output_item.added' && e.data.item.type === 'message',
    );
    expect(messageAdded!.data.output_index).toBe(1);
  });
});

describe("what chat's machinery adds", () => {
  it('serves a scripted rule matched on route responses, and its scripted error', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const path = join(mkdtempSync(join(tmpdir(), 'nimsim-responses-')), 'rules.yaml');
    writeFileSync(
      path,
      [
        'rules:',
        '  - match: { route: responses, user_contains: outage }',
        '    reply: { error: { status: 503, message: "Scripted outage." } }',
        '  - match: { route: responses, system_contains: pirate }',
        '    reply: { template: "Arr, {{last_user}}" }',
        '  - match: { route: chat }',
        '    reply: { content: "chat only" }',
      ].join('\n'),
    );
    const server = responsesServer({ rulesFile: path });
    const scripted = (await (
      await server.post({ instructions: 'Talk like a pirate.', input: 'ahoy' })
    ).json()) as Json;
    expect(scripted.output[0].content[0].text).toBe('Arr, ahoy');
    const failed = await server.post({ input: 'an outage please' });
    expect(failed.status).toBe(503);
    expect(((await failed.json()) as Json).error.message).toBe('Scripted outage.');
    const unscripted = (await (await server.post({ input: 'hello', seed: 1 })).json()) as Json;
    expect(unscripted.output[0].content[0].text).not.toBe('chat only');
  });

  it('injects faults on demand, and gates the route behind the API key', async () => {
    const server = responsesServer({ apiKey: 'k' });
    const auth = { authorization: 'Bearer k' };
    const denied = await server.post({ input: 'x' });
    expect(denied.status).toBe(401);
    const limited = await server.post(
      { input: 'x' },
      {
        ...auth,
        'x-nimsim-fault': 'rate_limit',
      },
    );
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
  });

  it("carries NIM's per-request stats with NIM_PER_REQ_METRICS_ENABLE", async () => {
    const server = responsesServer({ perReqMetricsEnable: '1' });
    const body = (await (
      await server.post({ input: 'x', max_output_tokens: 5, ignore_eos: true })
    ).json()) as Json;
    expect(body.stats).toMatchObject({ type: 'NIM LLM Model Stats', llm_output_token_length: 5 });
    const events = await server.stream({ input: 'x', max_output_tokens: 5, ignore_eos: true });
    expect(events.at(-1)!.data.response.stats).toMatchObject({ llm_output_token_length: 5 });
  });

  it("counts its requests in the engine metrics like chat's", async () => {
    const server = responsesServer();
    await server.post({ input: 'x', max_output_tokens: 7, ignore_eos: true });
    const text = await (await server.service.app.request('/metrics')).text();
    expect(text).toMatch(/^vllm:generation_tokens_total\{[^}]*\} 7$/m);
    expect(text).toMatch(/^vllm:request_success_total\{[^}]*finished_reason="length"[^}]*\} 1$/m);
  });
});
