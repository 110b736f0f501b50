import { describe, expect, it } from 'vitest';
import { postJson, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.3-70b-instruct';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A ~3,000-token system prompt of ordinary words. */
const SYSTEM = Array.from(
  { length: 3000 },
  (_, i) => ['alpha', 'river', 'stone', 'light', 'market'][i % 5],
).join(' ');

/** Streams one turn in real time (time scale 1) and measures time to the first content chunk. */
async function turn(service: ReturnType<typeof testService>, messages: Json[]) {
  const start = performance.now();
  const res = await postJson(service, '/v1/chat/completions', {
    model: MODEL,
    messages,
    max_tokens: 8,
    ignore_eos: true,
    seed: 1,
    stream: true,
    stream_options: { include_usage: true },
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let ttftMs: number | undefined;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (ttftMs === undefined && text.includes('"content":"') && /"content":"[^"]/.test(text)) {
      ttftMs = performance.now() - start;
    }
  }
  const frames = text
    .split('\n\n')
    .filter((f) => f.startsWith('data: {'))
    .map((f) => JSON.parse(f.slice(6)) as Json);
  const usage = frames.at(-1)!.usage as Json;
  const answer = frames.map((f) => f.choices[0]?.delta?.content ?? '').join('');
  return { ttftMs: ttftMs!, usage, answer };
}

async function conversation(reuse: '1' | '0') {
  const service = testService({
    modelName: MODEL,
    gpus: '2',
    precision: 'fp8',
    tp: '2',
    timeScale: '1',
    enableKvCacheReuse: reuse,
  });
  const first: Json[] = [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: 'Summarise the rules in one line.' },
  ];
  const t1 = await turn(service, first);
  const t2 = await turn(service, [
    ...first,
    { role: 'assistant', content: t1.answer },
    { role: 'user', content: 'And now in French?' },
  ]);
  return { t1, t2 };
}

describe('multi-turn prefix caching on 70B FP8 TP2 (real time)', () => {
  it('serves turn 2 mostly from the cache at under half the time to first token', async () => {
    const { t1, t2 } = await conversation('1');
    expect(t1.usage.prompt_tokens).toBeGreaterThan(3000);
    expect(t1.usage.prompt_tokens_details.cached_tokens).toBe(0);
    expect(t2.usage.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(0.9 * t1.usage.prompt_tokens);
    expect(t2.ttftMs).toBeLessThanOrEqual(t1.ttftMs / 2);
  });

  it('gets neither the hit nor the speed-up with reuse off', async () => {
    const { t1, t2 } = await conversation('0');
    expect(t2.usage.prompt_tokens_details).toBeNull();
    expect(t2.ttftMs).toBeGreaterThan(t1.ttftMs / 2);
  });
});
