/**
 * `nimsim simulate --trace FILE`: replays a JSONL trace (trace.ts) through the engine on the
 * virtual clock, open loop: each line arrives at its timestamp whatever the server's state, as
 * AIPerf's fixed-schedule replay and Dynamo's mocker replay send it. So a recorded or published
 * trace (Mooncake's, with `hash_ids`) answers a capacity question offline: its TTFT, throughput and
 * prefix-cache hit rate on a given GPU, precision, cache size and eviction policy.
 *
 * - A line with `hash_ids` is a whole prompt of those blocks (`--trace-block-size` tokens each),
 *   cut to `input_length`; the same ids give the same tokens, so prompts share exactly the prefix
 *   their ids share.
 * - Otherwise a line is a turn of its `session_id`: the session's history (earlier prompts and
 *   answers) plus `input_length` new tokens. A turn waits for the previous turn's answer, as a
 *   client must; a line without a session is a conversation of its own.
 * - A request that cannot fit the context is refused as a real server would (400), and counted; a
 *   request that finds the waiting queue full is lost and counted as a 429.
 */
import type { Config } from '../config/config.js';
import { createRandom, hashSeed } from '../util/random.js';
import { createHarness, type RuntimeWatcher, type SimulationProgress } from './harness.js';
import type { SimulationReport, Slo } from './report.js';
import type { TraceEntry } from './trace.js';
import { plannedAnswer, tokens, traceBlock } from './workload.js';

export interface TraceReplayOptions {
  /** Tokens per `hash_ids` block (Mooncake's traces use 512). */
  readonly blockSize: number;
  /** Replay at most this many lines (the earliest); all when undefined. */
  readonly requests?: number | undefined;
  /** Objectives whose goodput the report gives (absent: none). */
  readonly slo?: Slo | undefined;
  /** Told how far the replay has got every few thousand events (a progress line). */
  readonly onProgress?: ((progress: SimulationProgress) => void) | undefined;
  /** Told the runtime before the replay starts (simulate --html). */
  readonly watch?: RuntimeWatcher | undefined;
}

/** Mooncake's block size: each `hash_ids` entry stands for this many prompt tokens. */
export const TRACE_BLOCK_SIZE = 512;

interface TraceSession {
  readonly id: string;
  history: number[];
  turns: number;
  /** Its lines not yet answered or refused: at 0 the session (and its history) is dropped. */
  left: number;
  busy: boolean;
  /** Turns that arrived while the previous one was still being answered. */
  readonly pending: TraceEntry[];
}

export function runTraceSimulation(
  config: Config,
  entries: readonly TraceEntry[],
  opts: TraceReplayOptions,
): SimulationReport {
  const harness = createHarness(config, opts.slo, { watch: opts.watch });
  const { clock, runtime } = harness;
  const lines = opts.requests === undefined ? entries : entries.slice(0, opts.requests);
  let longestOutput = 0;
  for (const e of lines) longestOutput = Math.max(longestOutput, e.outputTokens);
  const answer = plannedAnswer(longestOutput, config.seed);
  const rng = createRandom(hashSeed(config.seed, 'trace-tokens'));
  const linesOf = new Map<string, number>();
  for (const e of lines) linesOf.set(e.sessionId, (linesOf.get(e.sessionId) ?? 0) + 1);
  const sessions = new Map<string, TraceSession>();
  let tooLong = 0;
  let sent = 0;

  const promptOf = (e: TraceEntry, session: TraceSession): number[] => {
    if (!e.hashIds) {
      const fresh = tokens(rng, e.inputTokens);
      return session.history.length === 0 ? fresh : session.history.concat(fresh);
    }
    const blocks: number[][] = [];
    let length = 0;
    for (const id of e.hashIds) {
      if (length >= e.inputTokens) break;
      const block = traceBlock(id, Math.min(opts.blockSize, e.inputTokens - length), config.seed);
      blocks.push(block);
      length += block.length;
    }
    // Ids for fewer tokens than input_length: the rest is text of this request's own.
    if (length < e.inputTokens) blocks.push(tokens(rng, e.inputTokens - length));
    // One native concatenation: pushing token by token cost most of a long trace's replay.
    return blocks.length === 1 ? blocks[0]! : ([] as number[]).concat(...blocks);
  };

  const send = (session: TraceSession, e: TraceEntry) => {
    const prompt = promptOf(e, session);
    const output = answer.length === e.outputTokens ? answer : answer.slice(0, e.outputTokens);
    if (prompt.length + output.length > runtime.maxModelLen) {
      tooLong++;
      next(session);
      return;
    }
    session.busy = true;
    const turn = ++session.turns;
    const accepted = harness.submit(`trace-${sent++}`, prompt, output, turn, () => {
      // The next turn resends this one's prompt and answer (hash_ids lines carry their own prompt).
      if (!e.hashIds) session.history = prompt.concat(output);
      next(session);
    });
    if (!accepted) next(session); // a 429: the client moves on without this answer
  };

  /** The session's current line is done (answered, refused or lost): on to its next, if any. */
  const next = (session: TraceSession) => {
    session.busy = false;
    if (--session.left === 0) {
      sessions.delete(session.id);
      return;
    }
    const e = session.pending.shift();
    if (e) send(session, e);
  };

  for (const e of lines) {
    clock.schedule(e.timestampMs, () => {
      let session = sessions.get(e.sessionId);
      if (!session) {
        session = {
          id: e.sessionId,
          history: [],
          turns: 0,
          left: linesOf.get(e.sessionId)!,
          busy: false,
          pending: [],
        };
        sessions.set(e.sessionId, session);
      }
      if (session.busy) session.pending.push(e);
      else send(session, e);
    });
  }
  return { ...harness.run(opts.onProgress), rejected_400: tooLong };
}
