/**
 * The engine's refusals, declared in one place. They carry data, never HTTP: the API edge maps
 * each kind to a status and body (api/errors.ts).
 */
export type EngineErrorKind =
  /** The waiting queue is at NIMSIM_MAX_WAITING. */
  | 'queue_full'
  /** The engine is draining for shutdown and admits nothing new. */
  | 'draining'
  /** The request can never fit: its tokens exceed the whole KV cache. */
  | 'kv_capacity';

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly kind: EngineErrorKind,
    message: string,
    /** For queue_full: a suggested wait before retrying, in seconds. */
    readonly retryAfterS?: number,
  ) {
    super(message);
  }
}

/**
 * The refusal of a full waiting queue, built without a stack trace: under overload it is thrown
 * for every request that arrives (an overloaded `simulate` fleet throws it millions of times), and
 * capturing the stack cost more than all the rest of a refused submit. Nobody reads its stack: it
 * becomes a 429.
 */
export function queueFullError(maxWaiting: number): EngineError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new EngineError(
      'queue_full',
      `The waiting queue is full (${maxWaiting} requests). Retry later.`,
      1,
    );
  } finally {
    Error.stackTraceLimit = limit;
  }
}
