/**
 * The one chat request the streaming benchmarks (realtime-accuracy.ts, stream-cost.ts) open by the
 * hundred: the same model and messages, so their figures describe the same per-token work.
 */
export const BURST_MODEL = 'meta/llama-3.1-8b-instruct';

export const BURST_MESSAGES = [
  {
    role: 'user',
    content:
      'Explain in plain words how continuous batching lets an inference server share one GPU ' +
      'between many concurrent requests, and why the time between tokens grows with the batch.',
  },
];

/** The burst's request body: `maxTokens` streamed tokens exactly (no early end), usage at the end. */
export function burstBody(maxTokens: number): string {
  return JSON.stringify({
    model: BURST_MODEL,
    messages: BURST_MESSAGES,
    max_tokens: maxTokens,
    ignore_eos: true,
    stream: true,
    stream_options: { include_usage: true },
  });
}
