/**
 * NIM's per-request metrics (experimental in NIM 1.x, `NIM_PER_REQ_METRICS_ENABLE=1`): chat and
 * completion responses carry a `stats` object. Shape from NVIDIA's "Per-Request Metrics" page
 * (docs.nvidia.com/nim/large-language-models/latest/nim-per-request-metrics.html): type, version,
 * llm_input_token_length, llm_output_token_length, generation_time_in_ms, time_in_queue_in_ms and
 * response_tokens { response_token_length, time_to_first_token_in_ms, token_to_token_time_in_ms,
 * tokens_per_second }.
 *
 * Times are the simulated GPU's (engine milliseconds), so they do not depend on the time scale.
 * "Processing start" is when the scheduler first admitted the request: the page describes the
 * queue time apart from the generation time and the first-token time.
 */
import type { FinishedEvent } from './run-generation.js';

export interface NimStats {
  type: 'NIM LLM Model Stats';
  version: '0.1.0';
  llm_input_token_length: number;
  llm_output_token_length: number;
  generation_time_in_ms: number;
  time_in_queue_in_ms: number;
  response_tokens: {
    response_token_length: number;
    time_to_first_token_in_ms: number;
    token_to_token_time_in_ms: number;
    tokens_per_second: number;
  };
  /** nimsim's addition with several replicas: the one the request ran on (NIMSIM_REPLICAS). */
  replica?: number;
}

const ms = (x: number) => Math.round(x * 1000) / 1000;

/**
 * The stats of one request from its choices' finish events (n > 1: the request spans from the
 * first arrival and admission to the last finish; output tokens add up).
 */
export function nimStatsOf(
  promptTokens: number,
  finished: readonly (FinishedEvent | undefined)[],
  replica?: number,
): NimStats {
  let outputTokens = 0;
  let arrival = Infinity;
  let scheduled = Infinity;
  let firstToken = Infinity;
  let end = -Infinity;
  for (const f of finished) {
    if (!f) continue;
    outputTokens += f.usage.completionTokens;
    arrival = Math.min(arrival, f.timings.arrivalMs);
    scheduled = Math.min(scheduled, f.timings.scheduledMs);
    firstToken = Math.min(firstToken, f.timings.firstTokenMs);
    end = Math.max(end, f.timings.finishedMs);
  }
  const known = Number.isFinite(arrival);
  const generationMs = known ? end - scheduled : 0;
  // Between the first and the last token: the same definition as the ITL metrics' (AIPerf).
  const tokenToTokenMs = known && outputTokens > 1 ? (end - firstToken) / (outputTokens - 1) : 0;
  return {
    type: 'NIM LLM Model Stats',
    version: '0.1.0',
    llm_input_token_length: promptTokens,
    llm_output_token_length: outputTokens,
    generation_time_in_ms: ms(generationMs),
    time_in_queue_in_ms: known ? ms(scheduled - arrival) : 0,
    response_tokens: {
      response_token_length: outputTokens,
      time_to_first_token_in_ms: known ? ms(firstToken - scheduled) : 0,
      token_to_token_time_in_ms: ms(tokenToTokenMs),
      tokens_per_second: generationMs > 0 ? ms((outputTokens * 1000) / generationMs) : 0,
    },
    ...(replica !== undefined ? { replica } : {}),
  };
}
