/**
 * Histogram bucket boundaries as NIM 1.x and vLLM publish them (docs/nim-api.md#bucket-boundaries),
 * so existing dashboards' `le` selectors and heatmaps match.
 */

/** NIM 1.x time_to_first_token_seconds. */
export const NIM_TTFT = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];
/** vLLM time_to_first_token_seconds: NIM's list extended for long queues. */
export const VLLM_TTFT = [...NIM_TTFT, 20, 40, 80, 160, 640, 2560];
/** NIM 1.x time_per_output_token_seconds. */
export const NIM_TPOT = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
/** vLLM inter_token_latency_seconds. */
export const VLLM_ITL = [...NIM_TPOT, 5, 7.5, 10, 20, 40, 80];
/** NIM 1.x e2e_request_latency_seconds. */
export const NIM_E2E = [1, 2.5, 5, 10, 15, 20, 30, 40, 50, 60];
/** vLLM request latency histograms (e2e, queue, prefill, decode, inference). */
export const VLLM_REQUEST_TIME = [
  0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
];

/** vLLM's 1-2-5 token-count buckets up to max_model_len (vllm/v1/metrics/loggers.py build_1_2_5_buckets). */
export function buckets125(max: number): number[] {
  const out: number[] = [];
  for (let exp = 1; ; exp *= 10) {
    for (const m of [1, 2, 5]) {
      const v = m * exp;
      if (v > max) return out;
      out.push(v);
    }
  }
}

/** vLLM iteration_tokens_total (tokens per engine step). */
export const VLLM_ITERATION_TOKENS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
