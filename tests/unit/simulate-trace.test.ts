/** `simulate --trace`: a JSONL trace replayed open loop through the engine on the virtual clock. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { parseTrace, type TraceEntry } from '../../src/simulate/trace.js';
import { runTraceSimulation, TRACE_BLOCK_SIZE } from '../../src/simulate/trace-replay.js';

const config = loadConfig({});
const replay = (lines: object[], requests?: number, cfg = config) =>
  runTraceSimulation(cfg, parseTrace(lines.map((l) => JSON.stringify(l)).join('\n')), {
    blockSize: TRACE_BLOCK_SIZE,
    requests,
  });
const strip = ({ wall_s: _w, speedup: _s, ...rest }: ReturnType<typeof replay>) => rest;

describe('simulate --trace', () => {
  it('makes prompts share exactly the prefix their hash_ids share', () => {
    const r = replay([
      { timestamp: 0, input_length: 1536, output_length: 10, hash_ids: [1, 2, 3] },
      { timestamp: 1000, input_length: 1536, output_length: 10, hash_ids: [1, 2, 4] },
      { timestamp: 2000, input_length: 1536, output_length: 10, hash_ids: [9, 2, 3] },
    ]);
    expect(r.requests).toBe(3);
    // The second finds blocks 1 and 2 (1,024 tokens); the third's first block differs, so nothing.
    expect(r.prefix_cache_hit_rate).toBeCloseTo(1024 / (3 * 1536), 4);
    expect(r.cached_tokens_mean).toBeCloseTo(1024 / 3, 1);
  });

  it('sends each line at its timestamp: requests that arrive together queue, apart they do not', () => {
    const long = { input_length: 6000, output_length: 20 };
    const together = replay([
      { timestamp: 0, ...long },
      { timestamp: 0, ...long },
      { timestamp: 0, ...long },
    ]);
    const apart = replay([
      { timestamp: 0, ...long },
      { timestamp: 5000, ...long },
      { timestamp: 10000, ...long },
    ]);
    expect(apart.ttft_ms.p99).toBeCloseTo(apart.ttft_ms.p50, 6); // each alone on an idle engine
    expect(together.ttft_ms.mean).toBeGreaterThan(1.2 * apart.ttft_ms.mean);
    expect(apart.duration_s).toBeGreaterThan(10);
  });

  it("resends a session's history, and a turn waits for the previous answer", () => {
    const r = replay([
      { timestamp: 0, session_id: 'a', input_length: 1000, output_length: 100 },
      // Due before turn 1 can have finished: it is sent when the answer is there.
      { timestamp: 1, session_id: 'a', input_length: 200, output_length: 50 },
    ]);
    expect(r.by_turn?.map((t) => t.prompt_tokens_mean)).toEqual([1000, 1300]);
    // Turn 1's prompt and answer, but for the last partial block and the answer's last token.
    expect(r.by_turn?.[1]?.cached_tokens_mean).toBe(1088);
  });

  it('refuses (and counts) a line longer than the context, and replays the rest', () => {
    const small = loadConfig({}, { maxModelLen: '4096' });
    const r = replay(
      [
        { timestamp: 0, input_length: 1000, output_length: 10 },
        { timestamp: 10, input_length: 4090, output_length: 10 },
        { timestamp: 20, input_length: 1000, output_length: 10 },
      ],
      undefined,
      small,
    );
    expect(r.requests).toBe(2);
    expect(r.rejected_400).toBe(1);
  });

  it('replays only the first --requests lines, reproducibly', () => {
    const lines = Array.from({ length: 40 }, (_, i) => ({
      timestamp: i * 50,
      session_id: `s${i % 7}`,
      input_length: 300 + ((i * 37) % 400),
      output_length: 20 + (i % 30),
    }));
    expect(replay(lines, 25).requests).toBe(25);
    expect(strip(replay(lines))).toEqual(strip(replay(lines)));
  });
});

describe('trace lines', () => {
  it('keep hash_ids, and name the line of a bad one', () => {
    const entries: TraceEntry[] = parseTrace(
      '{"timestamp":5,"input_length":600,"output_length":2,"hash_ids":[7,8]}',
    );
    expect(entries[0]?.hashIds).toEqual([7, 8]);
    expect(() =>
      parseTrace('\n{"timestamp":0,"input_length":1,"output_length":1,"hash_ids":[1,-2]}'),
    ).toThrow(/line 2: hash_ids/);
  });
});
