/**
 * The cache-strategies table and conclusions from one list of runs, so that every number a
 * conclusion states is a cell of the table beside it, and no two conclusions disagree (a "best"
 * configuration is never named out of a set the same report calls a tie).
 */
import type { RunMetrics } from '../lib/metrics.js';
import { num, type Table } from '../lib/report.js';

export interface StrategyRun {
  readonly strategy: string;
  readonly kvCacheBlocks: number;
  readonly metrics: RunMetrics;
  readonly laterTurns: RunMetrics;
  /** Server-side counters from /metrics at the end of the run. */
  readonly server: {
    readonly prefixHitRate: number | undefined;
    readonly preemptions: number | undefined;
    readonly evictions: number | undefined;
    readonly hostHits: number | undefined;
  };
}

export interface CacheStrategySections {
  readonly table: Table;
  readonly conclusions: readonly string[];
}

const hitText = (r: StrategyRun) => num(r.metrics.cacheHitRate * 100);
const ttftText = (r: StrategyRun) => num(r.metrics.ttftMs.mean);
const label = (r: StrategyRun) => `${r.strategy} @ ${r.kvCacheBlocks}`;

/**
 * Whether the runs cached exactly alike: the same hit rate (as the table rounds it), no evictions
 * and no host-tier hits. Their TTFT differences then cannot come from the policy, only from noise.
 */
export function cachedAlike(runs: readonly StrategyRun[]): boolean {
  return (
    runs.length > 1 &&
    runs.every(
      (r) =>
        r.strategy !== 'off' &&
        r.server.evictions === 0 &&
        (r.server.hostHits ?? 0) === 0 &&
        hitText(r) === hitText(runs[0]!),
    )
  );
}

/** `a, b and c`. */
function list(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

/**
 * Table and conclusions for `runs`, which hold `off`, `lru`, `fifo`, `lfu` and `lru+host` at both
 * `sizes` (small, large).
 */
export function cacheStrategySections(
  runs: readonly StrategyRun[],
  sizes: readonly [number, number],
  hostBlocks: number,
): CacheStrategySections {
  const find = (strategy: string, blocks: number) => {
    const r = runs.find((x) => x.strategy === strategy && x.kvCacheBlocks === blocks);
    if (r === undefined) throw new Error(`cache-strategies: no run for ${strategy} @ ${blocks}`);
    return r;
  };
  const [small, large] = sizes;
  const offLarge = find('off', large);
  const lruLarge = find('lru', large);
  const lruSmall = find('lru', small);
  const hostSmall = find('lru+host', small);
  const conclusions: string[] = [];

  const speedup = offLarge.metrics.ttftMs.mean / Math.max(lruLarge.metrics.ttftMs.mean, 1e-9);
  conclusions.push(
    `Prefix caching is the big lever: at ${large} blocks LRU serves ${hitText(lruLarge)} % of prompt tokens ` +
      `from cache and mean TTFT is ${ttftText(lruLarge)} ms against ${ttftText(offLarge)} ms with caching off ` +
      `(${num(speedup)}× ${speedup >= 1 ? 'faster' : 'slower'}).`,
  );

  const hostGain = hostSmall.metrics.ttftMs.mean < lruSmall.metrics.ttftMs.mean;
  const hostHits = hostSmall.metrics.cacheHitRate > lruSmall.metrics.cacheHitRate;
  conclusions.push(
    `At ${small} blocks LRU's mean TTFT is ${ttftText(lruSmall)} ms (hit ${hitText(lruSmall)} %, ` +
      `${lruSmall.server.evictions ?? 'n/a'} evictions, ${lruSmall.server.preemptions ?? 'n/a'} preemptions). ` +
      `A ${hostBlocks}-block host tier ${hostHits ? `raises the hit rate to ${hitText(hostSmall)} %` : `leaves the hit rate at ${hitText(hostSmall)} %`} ` +
      (hostGain
        ? `and lowers mean TTFT to ${ttftText(hostSmall)} ms.`
        : `${hostHits ? 'but' : 'and'} does not lower mean TTFT in this run (${ttftText(hostSmall)} ms).`),
  );

  // This run's own measure of noise: configurations that cached identically (same hit rate, no
  // evictions) can differ in mean TTFT only by chance, so their spread is how far chance goes here.
  const ttft = (r: StrategyRun) => r.metrics.ttftMs.mean;
  const alikeSets = sizes
    .map((b) => runs.filter((r) => r.kvCacheBlocks === b && r.strategy !== 'off'))
    .map((set) => set.filter((r) => set.some((q) => q !== r && cachedAlike([r, q]))))
    .filter((set) => set.length > 1);
  const noise = alikeSets.map((set) => {
    const ts = set.map(ttft);
    return { blocks: set[0]!.kvCacheBlocks, ratio: Math.max(...ts) / Math.max(Math.min(...ts), 1e-9) };
  })[0];

  /**
   * When the policy that kept the most was not the fastest, whether the TTFT gap between the
   * policies is within this run's noise (or there is no such measure).
   */
  const fastestNote = (policies: readonly StrategyRun[], keeper: StrategyRun): string => {
    const fastest = policies.reduce((a, b) => (ttft(b) < ttft(a) ? b : a));
    if (fastest === keeper) return '';
    const gap = Math.max(...policies.map(ttft)) / Math.max(ttft(fastest), 1e-9);
    const head = ` ${fastest.strategy.toUpperCase()} had the lowest mean TTFT though`;
    if (noise === undefined) return `${head}.`;
    return (
      `${head}: their mean TTFTs differ by up to ${num(gap)}×, while configurations that cached identically ` +
      `at ${noise.blocks} blocks differed by up to ${num(noise.ratio)}×, so ` +
      (gap <= noise.ratio ? 'that gap is within this run’s noise.' : 'that gap is beyond this run’s noise.')
    );
  };

  // Eviction policies, per size: alike when nothing was evicted, otherwise compared by what they kept.
  for (const blocks of sizes) {
    const policies = ['lru', 'fifo', 'lfu'].map((s) => find(s, blocks));
    if (cachedAlike(policies)) {
      conclusions.push(
        `At ${blocks} blocks LRU, FIFO and LFU evict nothing and hit the same ${hitText(policies[0]!)} % of prompt ` +
          `tokens, so the policy cannot matter there: their mean TTFTs (${policies.map(ttftText).join(', ')} ms) ` +
          'differ by run-to-run noise only.',
      );
    } else {
      const keeper = policies.reduce((a, b) => (b.metrics.cacheHitRate > a.metrics.cacheHitRate ? b : a));
      const hits = policies.map((p) => p.metrics.cacheHitRate * 100);
      // Policies whose hit rates are within a point kept practically the same tokens: their TTFT gap
      // says nothing about the policy.
      const close = Math.max(...hits) - Math.min(...hits) < 1;
      const sameShare = policies.filter((p) => policies.filter((q) => hitText(q) === hitText(p)).length > 1);
      const verdict = close
        ? ' Their hit rates are within one point of each other, so the policy barely matters here and their TTFT gap is run-to-run noise.'
        : `${' '}${keeper.strategy.toUpperCase()} kept the most.` +
          (sameShare.length > 1
            ? ` ${list(sameShare.map((p) => p.strategy.toUpperCase()))} kept the same share, so their TTFT gap is noise.`
            : '') +
          fastestNote(policies, keeper);
      conclusions.push(
        `At ${blocks} blocks the cache is too small for the working set (evictions ` +
          `${policies.map((p) => `${p.strategy} ${p.server.evictions ?? 'n/a'}`).join(', ')}): ` +
          `hit ${policies.map((p) => `${p.strategy} ${hitText(p)} %`).join(', ')}; mean TTFT ` +
          `${policies.map((p) => `${p.strategy} ${ttftText(p)} ms`).join(', ')}.${verdict}`,
      );
    }
  }

  // The fastest configuration, or the set it ties with: every run caching alike with it at its size.
  const best = [...runs].sort((a, b) => a.metrics.ttftMs.mean - b.metrics.ttftMs.mean)[0]!;
  const peers = runs.filter((r) => r.kvCacheBlocks === best.kvCacheBlocks && cachedAlike([best, r]));
  conclusions.push(
    peers.length > 1
      ? `Lowest mean TTFT: ${label(best)} blocks (${ttftText(best)} ms), but ${list(peers.filter((p) => p !== best).map((p) => p.strategy))} ` +
          `cached exactly the same at that size (hit ${hitText(best)} %, no evictions, no host hits): a tie, not a winner.`
      : `Lowest mean TTFT: ${label(best)} blocks (${ttftText(best)} ms).`,
  );

  const table: Table = {
    title: 'Per strategy and cache size (simulated times)',
    columns: [
      'strategy',
      'KV blocks',
      'requests ok',
      'hit %',
      'server hit %',
      'TTFT mean ms',
      'TTFT p50',
      'TTFT p90',
      'TTFT p99',
      'later-turn TTFT mean',
      'ITL p50 ms',
      'output tok/s',
      'preemptions',
      'evictions',
      'host hits',
    ],
    rows: runs.map((r) => [
      r.strategy,
      r.kvCacheBlocks,
      `${r.metrics.succeeded}/${r.metrics.requests}`,
      hitText(r),
      r.server.prefixHitRate === undefined ? 'n/a' : num(r.server.prefixHitRate * 100),
      ttftText(r),
      num(r.metrics.ttftMs.p50),
      num(r.metrics.ttftMs.p90),
      num(r.metrics.ttftMs.p99),
      num(r.laterTurns.ttftMs.mean),
      num(r.metrics.itlMs.p50, 2),
      num(r.metrics.outputTokensPerS, 0),
      r.server.preemptions ?? 'n/a',
      r.server.evictions ?? 'n/a',
      r.server.hostHits ?? 'n/a',
    ]),
    note:
      "ITL p50 is the median over requests of AIPerf's per-request inter-token latency, (last token − first " +
      'token) / (output tokens − 1).',
  };
  return { table, conclusions };
}
