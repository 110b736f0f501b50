/**
 * NIM's per-request `stats` (NIM_PER_REQ_METRICS_ENABLE=1) as the official openai client sees
 * them: an extra field it keeps on the parsed objects, without breaking the usual ones.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NimStats } from '../../src/serving/nim-stats.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Count to five.' }];

let server: LiveServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startLiveServer({ perReqMetricsEnable: '1' });
  client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'not-used', maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
});

describe('per-request stats through the openai client', () => {
  it('are kept on a chat completion beside its usage', async () => {
    const completion = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 12 });
    const stats = (completion as unknown as { stats: NimStats }).stats;
    expect(stats.type).toBe('NIM LLM Model Stats');
    expect(stats.llm_input_token_length).toBe(completion.usage?.prompt_tokens);
    expect(stats.llm_output_token_length).toBe(completion.usage?.completion_tokens);
    expect(stats.response_tokens.tokens_per_second).toBeGreaterThan(0);
    expect(completion.choices[0]?.message.content).toBeTruthy();
  });

  it('arrive on the usage chunk of a stream', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 12,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)! as OpenAI.ChatCompletionChunk & { stats?: NimStats };
    expect(last.choices).toEqual([]);
    expect(last.usage?.completion_tokens).toBe(last.stats?.llm_output_token_length);
    expect(chunks.slice(0, -1).some((c) => 'stats' in c)).toBe(false);
  });
});
