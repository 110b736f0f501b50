/**
 * Multi-turn traffic: N users × T turns, each turn resending the whole conversation (system
 * prompt, earlier questions and the answers the server gave) plus a new question, with a think
 * time between turns — the traffic prefix caching is for. Also replays JSONL traces (trace.ts),
 * whose lines of one session are such turns.
 */
import { performance } from 'node:perf_hooks';
import { createRandom, hashSeed } from '../../src/util/random.js';
import { exponential } from './arrivals.js';
import type { ChatClient, ChatMessage } from './chat-client.js';
import type { RequestRecord } from './metrics.js';
import type { Progress } from './progress.js';
import { hashIdText, promptText } from './prompts.js';
import { TRACE_BLOCK_SIZE } from '../../src/simulate/trace-replay.js';
import { sleep } from './runner.js';
import type { TraceEntry } from '../../src/simulate/trace.js';

export interface SessionWorkload {
  readonly users: number;
  readonly turns: number;
  /** Tokens of the system prompt (0 = none). */
  readonly systemTokens: number;
  /** One system prompt for every user (true) or one per user (false). */
  readonly sharedSystemPrompt: boolean;
  /** New user tokens per turn. */
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Mean think time between a reply and the next turn, wall ms (exponential, seeded). */
  readonly thinkTimeMs: number;
  readonly seed: number;
}

/** The first messages of user `u`'s conversation: the system prompt, if any. */
function opening(w: SessionWorkload, u: number): ChatMessage[] {
  if (w.systemTokens === 0) return [];
  const seed = w.sharedSystemPrompt ? hashSeed(w.seed, 'system') : hashSeed(w.seed, 'system', u);
  return [{ role: 'system', content: `You are a helpful assistant.${promptText(w.systemTokens, seed)}` }];
}

/**
 * Sends one turn of a conversation, records it, and on success appends the answer to `messages`
 * so the next turn resends it. Returns false when the session must end (the turn failed).
 */
async function takeTurn(
  client: ChatClient,
  messages: ChatMessage[],
  turn: { content: string; maxTokens: number; session: number; index: number },
  records: RequestRecord[],
  progress: Progress | undefined,
): Promise<boolean> {
  messages.push({ role: 'user', content: turn.content });
  const r = await client.send({
    messages,
    maxTokens: turn.maxTokens,
    session: turn.session,
    turn: turn.index,
    collectText: true,
  });
  records.push(r);
  progress?.update(records.length);
  if (r.error !== undefined || !r.done) return false;
  messages.push({ role: 'assistant', content: r.text });
  return true;
}

/**
 * Runs every user's conversation concurrently until all turns are done or `deadlineMs` passed
 * (no new turn starts after it). Users start spread over one mean think time so they do not
 * arrive in lockstep. A failed turn ends that user's session.
 */
export async function runSessions(opts: {
  client: ChatClient;
  workload: SessionWorkload;
  deadlineMs: number;
  progress?: Progress;
}): Promise<RequestRecord[]> {
  const w = opts.workload;
  const records: RequestRecord[] = [];
  const user = async (u: number) => {
    const rng = createRandom(hashSeed(w.seed, 'user', u));
    const messages = opening(w, u);
    await sleep(rng.nextFloat() * w.thinkTimeMs);
    for (let t = 0; t < w.turns && performance.now() < opts.deadlineMs; t++) {
      const content = promptText(w.inputTokens, w.seed, 'turn', u, t);
      const turn = { content, maxTokens: w.outputTokens, session: u, index: t };
      if (!(await takeTurn(opts.client, messages, turn, records, opts.progress))) return;
      if (t + 1 < w.turns) await sleep(exponential(rng, w.thinkTimeMs));
    }
  };
  await Promise.all(Array.from({ length: w.users }, (_, u) => user(u)));
  return records;
}

/**
 * Replays `entries`: each is sent at its timestamp ÷ `timeScale` (wall ms from the start), or when
 * its session's previous turn has finished if that is later; a session resends its history.
 */
export async function runTrace(opts: {
  client: ChatClient;
  entries: readonly TraceEntry[];
  timeScale: number;
  seed: number;
  deadlineMs: number;
  progress?: Progress;
}): Promise<RequestRecord[]> {
  const bySession = new Map<string, TraceEntry[]>();
  for (const e of opts.entries) {
    const list = bySession.get(e.sessionId) ?? [];
    list.push(e);
    bySession.set(e.sessionId, list);
  }
  const records: RequestRecord[] = [];
  const startMs = performance.now();
  const session = async (entries: readonly TraceEntry[], s: number) => {
    const messages: ChatMessage[] = [];
    for (let t = 0; t < entries.length; t++) {
      const e = entries[t]!;
      const dueMs = startMs + e.timestampMs / opts.timeScale;
      if (dueMs >= opts.deadlineMs) return;
      await sleep(dueMs - performance.now());
      // A hash_ids line is a whole prompt of its own; other lines add a turn to the session's history.
      const content = e.hashIds
        ? hashIdText(e.hashIds, e.inputTokens, TRACE_BLOCK_SIZE, opts.seed, 'trace', s, t)
        : promptText(e.inputTokens, opts.seed, 'trace', s, t);
      const turn = { content, maxTokens: e.outputTokens, session: s, index: t };
      const history = e.hashIds ? [] : messages;
      if (!(await takeTurn(opts.client, history, turn, records, opts.progress))) return;
    }
  };
  await Promise.all([...bySession.values()].map((entries, s) => session(entries, s)));
  return records;
}
