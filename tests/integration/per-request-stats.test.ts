/** NIM_PER_REQ_METRICS_ENABLE: NIM's per-request `stats` object on chat and completion responses. */
import { describe, expect, it } from 'vitest';
import type { NimStats } from '../../src/serving/nim-stats.js';
import { postJson, readSse, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const chat = (extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  messages: [{ role: 'user', content: 'Say something.' }],
  max_tokens: 24,
  ignore_eos: true,
  ...extra,
});

/** The stats agree with the usage and with themselves (the roofline's times are positive). */
function expectConsistent(stats: NimStats, usage: { prompt_tokens: number; completion_tokens: number }) {
  expect(stats.type).toBe('NIM LLM Model Stats');
  expect(stats.version).toBe('0.1.0');
  expect(stats.llm_input_token_length).toBe(usage.prompt_tokens);
  expect(stats.llm_output_token_length).toBe(usage.completion_tokens);
  const rt = stats.response_tokens;
  expect(rt.response_token_length).toBe(usage.completion_tokens);
  expect(stats.time_in_queue_in_ms).toBeGreaterThanOrEqual(0);
  expect(rt.time_to_first_token_in_ms).toBeGreaterThan(0);
  expect(rt.token_to_token_time_in_ms).toBeGreaterThan(0);
  // The first token, then n - 1 gaps: the generation time is their sum (rounding aside).
  const rebuilt =
    rt.time_to_first_token_in_ms + (rt.response_token_length - 1) * rt.token_to_token_time_in_ms;
  expect(Math.abs(rebuilt - stats.generation_time_in_ms)).toBeLessThan(0.05);
  expect(rt.tokens_per_second).toBeCloseTo(
    (rt.response_token_length * 1000) / stats.generation_time_in_ms,
    1,
  );
}

describe('per-request metrics (NIM_PER_REQ_METRICS_ENABLE)', () => {
  it('are absent by default', async () => {
    const body = (await (await postJson(testService(), '/v1/chat/completions', chat())).json()) as object;
    expect(body).not.toHaveProperty('stats');
  });

  it('ride on a non-streaming chat completion and a completion', async () => {
    const service = testService({ perReqMetricsEnable: '1' });
    const chatBody = (await (await postJson(service, '/v1/chat/completions', chat())).json()) as {
      stats: NimStats;
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    expectConsistent(chatBody.stats, chatBody.usage);
    expect(chatBody.usage.completion_tokens).toBe(24);

    const completion = (await (
      await postJson(service, '/v1/completions', { model: MODEL, prompt: 'Once upon a time', max_tokens: 10 })
    ).json()) as { stats: NimStats; usage: { prompt_tokens: number; completion_tokens: number } };
    expectConsistent(completion.stats, completion.usage);
  });

  it('come in one chunk before [DONE] when streaming, with the usage when it is asked for', async () => {
    const service = testService({ perReqMetricsEnable: '1' });
    for (const includeUsage of [true, false]) {
      const frames = await readSse(
        await postJson(
          service,
          '/v1/chat/completions',
          chat({ stream: true, stream_options: { include_usage: includeUsage } }),
        ),
      );
      expect(frames.at(-1)).toBe('[DONE]');
      const last = frames.at(-2) as { choices: unknown[]; stats: NimStats; usage?: unknown };
      expect(last.choices).toEqual([]);
      expect(frames.filter((f) => typeof f === 'object' && f !== null && 'stats' in f)).toHaveLength(1);
      if (includeUsage) {
        expectConsistent(last.stats, last.usage as { prompt_tokens: number; completion_tokens: number });
      } else {
        expect(last).not.toHaveProperty('usage');
        expect(last.stats.llm_output_token_length).toBe(24);
      }
    }
  });
});
