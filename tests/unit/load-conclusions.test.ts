import { describe, expect, it } from 'vitest';
import type { RunMetrics } from '../../load-tests/lib/metrics.js';
import { summarize } from '../../load-tests/lib/percentiles.js';
import type { Table } from '../../load-tests/lib/report.js';
import {
  cacheStrategySections,
  type StrategyRun,
} from '../../load-tests/scenarios/cache-strategies-report.js';
import { metricTable } from '../../load-tests/lib/metrics-table.js';
import { multiTurnConclusion } from '../../load-tests/scenarios/multi-turn.js';
import { sweepSections, type SweepLevel } from '../../load-tests/scenarios/sweep-report.js';

/** A run whose TTFTs, ITLs, throughput and hit rate are given; the rest follows from them. */
function run(o: {
  ttftMs: number[];
  itlMs: number[];
  outputTokensPerS: number;
  hitRate: number;
  promptTokens?: number;
}): RunMetrics {
  const n = o.ttftMs.length;
  const prompt = o.promptTokens ?? 235;
  return {
    requests: n,
    succeeded: n,
    errorsByStatus: {},
    firstErrors: {},
    durationS: 1,
    requestsPerS: n,
    outputTokensPerS: o.outputTokensPerS,
    outputTokensTotal: 64 * n,
    ttftMs: summarize(o.ttftMs),
    itlMs: summarize(o.itlMs),
    e2eMs: summarize(o.ttftMs.map((t) => t + 300)),
    tokensPerSPerUser: summarize(o.itlMs.map((x) => 1000 / x)),
    promptTokens: summarize(o.ttftMs.map(() => prompt)),
    cachedTokens: summarize(o.ttftMs.map(() => Math.round(prompt * o.hitRate))),
    cacheHitRate: Math.round(prompt * o.hitRate) / prompt,
  };
}

/**
 * Every decimal number a conclusion states (except ratios such as "6.6×") is a cell of `table`:
 * the conclusions are computed from the table a reader sees beside them.
 */
function numbersNotInTable(conclusions: readonly string[], table: Table): string[] {
  const missing = statedNumbers(conclusions).filter((x) => !new Set(table.rows.flat().map(String)).has(x));
  return missing;
}

/** The decimal numbers the conclusions state, ratios ("6.6×") aside. */
function statedNumbers(conclusions: readonly string[]): string[] {
  return conclusions.flatMap((c) => [...c.matchAll(/(?<![\w.])(\d+\.\d+)(?!×|\d)/g)].map((m) => m[1]!));
}

describe('sweep conclusions', () => {
  // The shape a newcomer met: TTFT peaks at c=16 and is lower at the last level; a 6.8 % hit rate
  // from the chat template's shared opening block.
  const levels: SweepLevel[] = [
    {
      concurrency: 1,
      metrics: run({ ttftMs: [19.7], itlMs: [4.9], outputTokensPerS: 200, hitRate: 0.068 }),
      stepLagMs: 0,
    },
    {
      concurrency: 4,
      metrics: run({ ttftMs: [40.1], itlMs: [5.0], outputTokensPerS: 750, hitRate: 0.068 }),
      stepLagMs: 0.3,
    },
    {
      concurrency: 16,
      metrics: run({ ttftMs: [220.5], itlMs: [5.7], outputTokensPerS: 2500, hitRate: 0.072 }),
      stepLagMs: 1.7,
    },
    {
      concurrency: 64,
      metrics: run({ ttftMs: [193.5], itlMs: [8.4], outputTokensPerS: 5400, hitRate: 0.068 }),
      stepLagMs: 11,
    },
  ];
  const s = sweepSections(levels);

  it('names the TTFT peak in between instead of a range that leaves it out', () => {
    const text = s.conclusions.join(' ');
    expect(text).toContain('TTFT mean from 19.7 ms at c=1 to 193.5 ms at c=64 (highest 220.5 ms at c=16)');
  });

  it('states only numbers of its own table', () => {
    expect(numbersNotInTable(s.conclusions, s.table)).toEqual([]);
  });

  it('says what the prefix cache reused, with the hit rates of the table', () => {
    expect(s.cacheNote).not.toMatch(/nothing reusable/);
    expect(s.cacheNote).toContain('6.8–7.2 %');
    const hitColumn = s.table.columns.indexOf('cache hit %');
    expect(s.table.rows.map((r) => r[hitColumn])).toEqual(['6.8', '6.8', '7.2', '6.8']);
  });

  it('says the server is not saturated when the last level still added throughput', () => {
    expect(s.conclusions.join(' ')).toContain('not saturated yet');
    const flat = sweepSections([
      ...levels.slice(0, 3),
      { ...levels[3]!, metrics: run({ ttftMs: [300], itlMs: [20], outputTokensPerS: 2600, hitRate: 0.068 }) },
    ]);
    expect(flat.conclusions.join(' ')).toContain('stopped growing by more than 10 % a level after c=16');
  });
});

describe('cache-strategies conclusions', () => {
  // The run a newcomer met: at 3,000 blocks lru / fifo / lfu / lru+host all hit 88.3 % with no
  // evictions, and lru+host had the lowest mean TTFT; at 300 blocks the host tier was slower.
  const r = (
    strategy: string,
    blocks: number,
    ttft: number,
    hit: number,
    evictions: number,
    hostHits = 0,
  ): StrategyRun => {
    const metrics = run({
      ttftMs: [ttft],
      itlMs: [15],
      outputTokensPerS: 170,
      hitRate: hit,
      promptTokens: 2515,
    });
    return {
      strategy,
      kvCacheBlocks: blocks,
      metrics,
      laterTurns: metrics,
      server: { prefixHitRate: hit, preemptions: 0, evictions, hostHits },
    };
  };
  const runs = [
    r('off', 300, 4239.3, 0, 0),
    r('lru', 300, 126.5, 0.817, 484),
    r('fifo', 300, 144.8, 0.793, 577),
    r('lfu', 300, 183.9, 0.812, 505),
    r('lru+host', 300, 136.9, 0.883, 492, 4080),
    r('off', 3000, 417.3, 0, 0),
    r('lru', 3000, 63.5, 0.883, 0),
    r('fifo', 3000, 64.7, 0.883, 0),
    r('lfu', 3000, 54.5, 0.883, 0),
    r('lru+host', 3000, 52.7, 0.883, 0),
  ];
  const s = cacheStrategySections(runs, [300, 3000], 4000);
  const text = s.conclusions.join('\n');

  it('never names a single best out of configurations it calls a noise tie', () => {
    expect(text).toContain('At 3000 blocks LRU, FIFO and LFU evict nothing');
    expect(text).toContain('run-to-run noise');
    expect(text).not.toMatch(/Best TTFT in this run: \w+ @ 3000/);
    expect(text).toContain(
      'Lowest mean TTFT: lru+host @ 3000 blocks (52.7 ms), but lru, fifo and lfu cached exactly the same',
    );
    expect(text).toContain('a tie, not a winner');
  });

  it('does not say a host tier helped when its TTFT was worse', () => {
    expect(text).toContain(
      'raises the hit rate to 88.3 % but does not lower mean TTFT in this run (136.9 ms)',
    );
    expect(text).not.toMatch(/brings it to/);
  });

  it('compares policies by what they kept when the cache is too small', () => {
    expect(text).toContain('At 300 blocks the cache is too small');
    expect(text).toContain('LRU kept the most.\n');
    // Two policies that kept the same share (81.7 %), the third 2.7 points less: the two are called
    // a noise tie, not ranked by TTFT.
    const same = cacheStrategySections(
      runs.map((x) =>
        x.kvCacheBlocks !== 300
          ? x
          : x.strategy === 'fifo'
            ? r('fifo', 300, 305, 0.817, 484)
            : x.strategy === 'lfu'
              ? r('lfu', 300, 183.9, 0.79, 505)
              : x,
      ),
      [300, 3000],
      4000,
    );
    expect(same.conclusions.join('\n')).toContain(
      'LRU kept the most. LRU and FIFO kept the same share, so their TTFT gap is noise.',
    );
    // Hit rates within a point (80.6, 80.2, 80.6 %): no ranking at all.
    const close = cacheStrategySections(
      runs.map((x) =>
        x.kvCacheBlocks !== 300 || !['lru', 'fifo', 'lfu'].includes(x.strategy)
          ? x
          : r(
              x.strategy,
              300,
              x.strategy === 'lru' ? 478.4 : 345.2,
              x.strategy === 'fifo' ? 0.802 : 0.806,
              526,
            ),
      ),
      [300, 3000],
      4000,
    );
    const closeText = close.conclusions.join('\n');
    expect(closeText).toContain('within one point of each other, so the policy barely matters here');
    expect(closeText).not.toContain('kept the most');
  });

  it("weighs a gap between policies against this run's own noise: configurations that cached identically", () => {
    // The final quick run: LFU kept the most at 300 blocks but LRU was fastest; at 3000 blocks
    // four identical configurations spread from 65.0 to 124.2 ms (1.9×).
    const measured = cacheStrategySections(
      [
        r('off', 300, 5994.1, 0, 0),
        r('lru', 300, 180.2, 0.808, 517),
        r('fifo', 300, 417.9, 0.797, 560),
        r('lfu', 300, 352.9, 0.814, 496),
        r('lru+host', 300, 117.6, 0.883, 523, 4576),
        r('off', 3000, 380.6, 0, 0),
        r('lru', 3000, 65.0, 0.883, 0),
        r('fifo', 3000, 124.2, 0.883, 0),
        r('lfu', 3000, 65.4, 0.883, 0),
        r('lru+host', 3000, 70.1, 0.883, 0),
      ],
      [300, 3000],
      4000,
    );
    expect(measured.conclusions.join('\n')).toContain(
      'LFU kept the most. LRU had the lowest mean TTFT though: their mean TTFTs differ by up to 2.3×, while ' +
        'configurations that cached identically at 3000 blocks differed by up to 1.9×, so that gap is beyond ' +
        'this run’s noise.',
    );
  });

  it('names a plain winner when nothing ties with it', () => {
    const clear = cacheStrategySections(
      runs.map((x) => (x.strategy === 'lfu' && x.kvCacheBlocks === 3000 ? r('lfu', 3000, 54.5, 0.9, 0) : x)),
      [300, 3000],
      4000,
    );
    const last = clear.conclusions[clear.conclusions.length - 1]!;
    expect(last).toBe(
      'Lowest mean TTFT: lru+host @ 3000 blocks (52.7 ms), but lru and fifo cached exactly the same at that size (hit 88.3 %, no evictions, no host hits): a tie, not a winner.',
    );
    const alone = cacheStrategySections(
      runs.map((x) =>
        x.strategy === 'lru+host' && x.kvCacheBlocks === 3000 ? r('lru+host', 3000, 40.2, 0.95, 0, 120) : x,
      ),
      [300, 3000],
      4000,
    );
    expect(alone.conclusions[alone.conclusions.length - 1]).toBe(
      'Lowest mean TTFT: lru+host @ 3000 blocks (40.2 ms).',
    );
  });

  it('states only numbers of its own table', () => {
    expect(statedNumbers(s.conclusions).length).toBeGreaterThanOrEqual(15);
    expect(numbersNotInTable(s.conclusions, s.table)).toEqual([]);
  });
});

describe('multi-turn conclusion', () => {
  const first = run({ ttftMs: [700, 740], itlMs: [20], outputTokensPerS: 189, hitRate: 0.794 });
  const later = run({ ttftMs: [120, 131.6], itlMs: [10], outputTokensPerS: 139, hitRate: 0.92 });

  it('credits the cache only when later turns are faster and hit more, from the rows of its table', () => {
    const text = multiTurnConclusion(first, later);
    expect(text).toContain('yet start sooner: the prefix cache serves the part already seen');
    const table = metricTable('Per turn', 'turn', [
      ['1', first],
      ['later (2–3)', later],
    ]);
    expect(statedNumbers([text]).length).toBe(4);
    expect(numbersNotInTable([text], table)).toEqual([]);
    expect(multiTurnConclusion(later, first)).toContain('are not faster here');
  });
});

describe('trend text', () => {
  it('names a peak and a trough between the first and the last level', async () => {
    const { trendText } = await import('../../load-tests/lib/trend-text.js');
    const pts = (vs: number[]) => vs.map((value, i) => ({ label: `c=${4 ** i}`, value }));
    expect(trendText(pts([19.7, 220.5, 193.5]), 1, ' ms')).toBe(
      '19.7 ms at c=1 to 193.5 ms at c=16 (highest 220.5 ms at c=4)',
    );
    expect(trendText(pts([101.2, 249.0, 5.1, 188.7]), 1, ' ms')).toBe(
      '101.2 ms at c=1 to 188.7 ms at c=64 (highest 249.0 ms at c=4, lowest 5.1 ms at c=16)',
    );
    expect(trendText(pts([1, 2, 3]), 0, ' tok/s')).toBe('1 tok/s at c=1 to 3 tok/s at c=16');
  });
});
