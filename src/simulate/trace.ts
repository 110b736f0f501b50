/**
 * JSONL traces for replay (`nimsim simulate --trace`, the `trace` load scenario), one request per
 * line in the Mooncake / AIPerf `mooncake_trace` shape:
 *
 *   {"timestamp": 0, "session_id": "a", "input_length": 512, "output_length": 64}
 *   {"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48]}
 *
 * `timestamp` is ms from the start of the trace (when the request is due), `session_id` groups the
 * turns of one conversation (optional: a line without it is a conversation of its own),
 * `input_length` is the new user tokens of that turn (earlier turns and answers of the session are
 * resent before them) and `output_length` the tokens to generate. `hash_ids` (Mooncake's published
 * traces) describe the whole prompt instead, one id per block of 512 tokens: two prompts share a
 * prefix exactly as far as their ids agree, which is what prefix caching sees.
 */

export interface TraceEntry {
  readonly timestampMs: number;
  readonly sessionId: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Mooncake's block ids of the whole prompt, when the line has them. */
  readonly hashIds?: readonly number[];
}

function nonNegInt(v: unknown, field: string, line: number, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`trace line ${line}: ${field} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Parses a JSONL trace (blank lines and `#` comments skipped) and returns its entries sorted by
 * timestamp (stable for equal ones). Throws naming the line on anything malformed.
 */
export function parseTrace(text: string): TraceEntry[] {
  const entries: TraceEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const n = i + 1;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch {
      throw new Error(`trace line ${n}: not JSON`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new Error(`trace line ${n}: expected an object`);
    }
    const o = obj as Record<string, unknown>;
    const ts = o.timestamp;
    if (typeof ts !== 'number' || !Number.isFinite(ts) || ts < 0) {
      throw new Error(`trace line ${n}: timestamp must be a number ≥ 0 (ms), got ${JSON.stringify(ts)}`);
    }
    const sid = o.session_id;
    if (sid !== undefined && typeof sid !== 'string' && typeof sid !== 'number') {
      throw new Error(`trace line ${n}: session_id must be a string or number`);
    }
    const ids = o.hash_ids;
    if (
      ids !== undefined &&
      (!Array.isArray(ids) || !ids.every((id) => typeof id === 'number' && Number.isInteger(id) && id >= 0))
    ) {
      throw new Error(`trace line ${n}: hash_ids must be an array of integers ≥ 0`);
    }
    entries.push({
      timestampMs: ts,
      sessionId: sid === undefined ? `line-${n}` : String(sid),
      inputTokens: nonNegInt(o.input_length, 'input_length', n, 1),
      outputTokens: nonNegInt(o.output_length, 'output_length', n, 1),
      ...(ids === undefined ? {} : { hashIds: ids as number[] }),
    });
  }
  return entries
    .map((e, i) => [e, i] as const)
    .sort((a, b) => a[0].timestampMs - b[0].timestampMs || a[1] - b[1])
    .map(([e]) => e);
}
