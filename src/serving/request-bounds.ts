/**
 * How much one wire request may ask of the server, checked before its output is planned and while
 * it is, so that a 200-byte body cannot make the server plan, hold or serialise gigabytes:
 *
 * - the waiting queue must take all its sequences (prompts × n) now, else 429 at once (the engine
 *   would refuse the first that overflows, but only after every choice had been planned);
 * - its sequences may take at most NIMSIM_MAX_TOKENS_PER_REQUEST tokens in all, prompt plus
 *   output each, else 400 naming max_tokens;
 * - its response may carry at most NIMSIM_MAX_LOGPROBS_PER_REQUEST logprob entries (a token and
 *   each of its top alternatives count one), else 400 naming top_logprobs (logprobs); the first
 *   chunk of a streamed echo, built whole, at most STREAMED_ECHO_MAX_LOGPROBS.
 *
 * vLLM has no per-request total: it fans `n` out into independent child requests
 * (vllm/v1/engine/parallel_sampling.py) and only checks at start-up that one sequence of
 * max_model_len fits the KV cache (vllm/v1/core/kv_cache_utils.py,
 * check_enough_kv_cache_memory), so every choice fits on its own and the choices take turns in
 * the cache. These bounds are nimsim's own, for the memory and time of one process; the token
 * bound never goes below max_model_len, so one choice that fits the context always passes.
 *
 * What a request forces is refused before anything is planned: with ignore_eos each choice plans
 * max_tokens tokens, otherwise at least min_tokens. Other answers end on their own, mostly long
 * before max_tokens, so they are counted as they are planned and refused when they cross a bound.
 */
import { ApiError } from './errors.js';

export interface RequestLimits {
  readonly maxTokensPerRequest: number;
  readonly maxLogprobsPerRequest: number;
  readonly maxWaiting: number;
  readonly maxModelLen: number;
}

/** What one wire request asks for, its prompts resolved. */
export interface RequestDemand {
  /** Choices per prompt (`n`). */
  readonly n: number;
  /** Each prompt's length and its resolved max_tokens (several only for batched completions). */
  readonly prompts: readonly { readonly promptTokens: number; readonly maxTokens: number }[];
  readonly ignoreEos: boolean;
  readonly minTokens: number;
  /** Logprob entries per generated token returned (1 + top alternatives); 0 without logprobs. */
  readonly logprobsPerToken: number;
  /**
   * The same per prompt token, when each choice also returns its prompt's logprobs (completions
   * `echo` with `logprobs`); else 0.
   */
  readonly promptLogprobsPerToken: number;
  /** The request's name for max tokens and for logprobs, for `param`. */
  readonly maxTokensField: string;
  readonly logprobsField: string;
}

/**
 * Refuses with 429 when the waiting queue cannot take every sequence of the request now. A
 * request larger than the whole queue can never be taken; it says so, with the same status the
 * engine gives a full queue.
 */
export function checkQueueRoom(
  room: number,
  maxWaiting: number,
  demand: Pick<RequestDemand, 'n' | 'prompts'>,
): void {
  const sequences = demand.prompts.length * demand.n;
  if (sequences <= room) return;
  const shape =
    demand.prompts.length > 1 ? `${demand.prompts.length} prompts × n ${demand.n}` : `n ${demand.n}`;
  const message =
    sequences === 1
      ? `The waiting queue is full (${maxWaiting} requests). Retry later.`
      : sequences > maxWaiting
        ? `This request makes ${sequences} sequences (${shape}), more than the waiting queue holds (${maxWaiting}, NIMSIM_MAX_WAITING). Please send fewer.`
        : `The waiting queue has room for ${room} of this request's ${sequences} sequences (${shape}; ${maxWaiting} at most). Retry later.`;
  throw new ApiError(429, message, null, { 'retry-after': '1' });
}

/**
 * The checks before planning, in order: what the request forces against the token and logprob
 * bounds (400: retrying cannot help), then room in the waiting queue (429). Returns the budget
 * that planning counts into.
 */
export function checkBounds(
  serving: { readonly engine: { waitingRoom(): number }; readonly settings: RequestLimits },
  demand: RequestDemand,
): RequestBudget {
  const budget = new RequestBudget(serving.settings, demand);
  budget.checkForced();
  checkQueueRoom(serving.engine.waitingRoom(), serving.settings.maxWaiting, demand);
  return budget;
}

/**
 * Most logprob entries the first chunk of a streamed completion with `echo` may carry. vLLM sends
 * the echoed prompt's logprobs in that one chunk (serving_completion.py,
 * completion_stream_generator: `out_logprobs = [*prompt_logprobs, *output.logprobs]`), and a
 * chunk is one JSON text built whole: a 40,000-token prompt at `logprobs: 20` built a 24 MB frame
 * in a 6.5 s stall and took the server to 466 MB. 8,192 entries make a frame of ~650 KB (a
 * 389-token prompt at `logprobs: 20`, 4,095 tokens at `logprobs: 1`), within the 1 MiB a stream
 * may leave unread (NIMSIM_STREAM_BUFFER_BYTES), so a client that reads normally is never cut for
 * that one frame; the same request without `stream` is written in parts and has only the
 * per-response bound.
 */
export const STREAMED_ECHO_MAX_LOGPROBS = 8_192;

/** Refuses (400) a streamed echo whose first chunk would carry more than STREAMED_ECHO_MAX_LOGPROBS. */
export function checkStreamedEcho(demand: RequestDemand): void {
  const perToken = demand.promptLogprobsPerToken;
  if (perToken === 0) return;
  for (const p of demand.prompts) {
    // The prompt's tokens and the first generated token go out together.
    const entries = (p.promptTokens + 1) * perToken;
    if (entries > STREAMED_ECHO_MAX_LOGPROBS) {
      throw new ApiError(
        400,
        `A streamed completion with echo sends its prompt's logprobs in its first chunk: its ${p.promptTokens} prompt tokens and first generated token, ${perToken} entries each, make ${entries}, more than one chunk may carry (${STREAMED_ECHO_MAX_LOGPROBS}). Please ask without stream, or for fewer logprobs.`,
        demand.logprobsField,
      );
    }
  }
}

/** The tokens and logprob entries a request takes, counted up front and as it is planned. */
export class RequestBudget {
  private readonly maxTokens: number;
  private tokens: number;
  private logprobs: number;
  private readonly promptTotal: number;

  constructor(
    private readonly limits: RequestLimits,
    private readonly demand: RequestDemand,
  ) {
    this.maxTokens = Math.max(limits.maxTokensPerRequest, limits.maxModelLen);
    let prompts = 0;
    for (const p of demand.prompts) prompts += p.promptTokens;
    this.promptTotal = prompts * demand.n;
    this.tokens = this.promptTotal;
    this.logprobs = this.promptTotal * demand.promptLogprobsPerToken;
  }

  /** Refuses (400) a request whose forced output alone crosses a bound, before it is planned. */
  checkForced(): void {
    const { demand } = this;
    let forced = 0;
    for (const p of demand.prompts) {
      forced += demand.ignoreEos ? p.maxTokens : Math.min(demand.minTokens, p.maxTokens);
    }
    forced *= demand.n;
    const field = forced === 0 ? 'n' : demand.ignoreEos ? demand.maxTokensField : 'min_tokens';
    const tokens = this.tokens + forced;
    if (tokens > this.maxTokens) {
      const each =
        forced === 0
          ? 'their prompts alone'
          : `prompt plus ${field}${demand.ignoreEos ? ' (ignore_eos)' : ''}`;
      throw new ApiError(
        400,
        `This request asks for ${tokens} tokens: ${this.choices()} of ${each}. One request may take at most ${this.maxTokens} on this server (NIMSIM_MAX_TOKENS_PER_REQUEST); please reduce n or ${field === 'n' ? 'the prompt' : field}.`,
        field,
      );
    }
    const logprobs = this.logprobs + forced * demand.logprobsPerToken;
    if (logprobs > this.limits.maxLogprobsPerRequest) {
      throw this.logprobsError(`This request asks for ${logprobs} logprobs over its ${this.choices()}`);
    }
  }

  /**
   * Counts `delta` more output tokens planned (negative when a stop string cut a choice short);
   * throws 400 once the request crosses a bound.
   */
  add(delta: number): void {
    this.tokens += delta;
    this.logprobs += delta * this.demand.logprobsPerToken;
    if (this.tokens > this.maxTokens) {
      const field = this.demand.maxTokensField;
      throw new ApiError(
        400,
        `This request's ${this.choices()} plan more than ${this.maxTokens} tokens (prompt plus output), the most one request may take on this server (NIMSIM_MAX_TOKENS_PER_REQUEST); please reduce n or ${field}.`,
        field,
      );
    }
    if (this.logprobs > this.limits.maxLogprobsPerRequest) {
      throw this.logprobsError(
        `This request's ${this.choices()} plan more than ${this.limits.maxLogprobsPerRequest} logprobs`,
      );
    }
  }

  /** "4 choices", or "16384 choices (128 prompts × n 128)" for a batch. */
  private choices(): string {
    const { prompts, n } = this.demand;
    const count = prompts.length * n;
    const noun = count === 1 ? 'choice' : 'choices';
    return prompts.length > 1 ? `${count} ${noun} (${prompts.length} prompts × n ${n})` : `${count} ${noun}`;
  }

  private logprobsError(what: string): ApiError {
    const { logprobsField, maxTokensField } = this.demand;
    const logprobsPerToken = Math.max(this.demand.logprobsPerToken, this.demand.promptLogprobsPerToken);
    const alternatives = logprobsPerToken - 1;
    return new ApiError(
      400,
      `${what}, ${logprobsPerToken} per token (the token and ${alternatives} alternative${alternatives === 1 ? '' : 's'}). One response may carry at most ${this.limits.maxLogprobsPerRequest} on this server (NIMSIM_MAX_LOGPROBS_PER_REQUEST); please reduce n, ${maxTokensField} or ${logprobsField}.`,
      logprobsField,
    );
  }
}
