/**
 * `cache-strategies`: the same multi-turn workload against nimsim started with prefix caching off,
 * LRU, FIFO, LFU and LRU with a host (CPU) tier, each at a small and a large GPU KV cache
 * (`--kv-cache-blocks`). Each configuration is a fresh child process, so no run inherits another's
 * cache. nimsim runs faster than real time; times are scaled back to simulated time.
 */
import { groupedBarChart } from '../lib/charts.js';
import { startLoopLagMonitor } from '../lib/loop-lag.js';
import { aggregate } from '../lib/metrics.js';
import { runChecks } from '../lib/metrics-table.js';
import { num, type Check } from '../lib/report.js';
import { getText, promValue, startNimsim, type Scenario } from '../lib/scenario.js';
import { cacheStrategySections, type StrategyRun } from './cache-strategies-report.js';
import { describeWorkload, multiTurnWorkload, runMultiTurn } from './multi-turn.js';

interface Strategy {
  readonly name: string;
  readonly flags: Readonly<Record<string, string | number>>;
}

/** The host (CPU) tier of `lru+host`, in blocks. */
const HOST_BLOCKS = 4000;

const STRATEGIES: readonly Strategy[] = [
  { name: 'off', flags: { 'enable-kv-cache-reuse': 0 } },
  { name: 'lru', flags: { 'kv-eviction': 'lru' } },
  { name: 'fifo', flags: { 'kv-eviction': 'fifo' } },
  { name: 'lfu', flags: { 'kv-eviction': 'lfu' } },
  { name: 'lru+host', flags: { 'kv-eviction': 'lru', 'kv-host-cache-blocks': HOST_BLOCKS } },
];

/**
 * GPU KV capacities in 16-token blocks, small and large. The workload's ~2,000-token shared system
 * prompt is 125 blocks and each user's own history grows by ~17 blocks a turn; the small cache
 * cannot keep every user's history between turns (evictions, some queueing), the large one keeps
 * everything (found with `nimsim simulate --turns … --shared-prefix-tokens …`).
 */
function cacheBlocks(quick: boolean): readonly [number, number] {
  return quick ? [300, 3000] : [600, 6000];
}

/**
 * An A100: its prefill is ~4× slower than an H100's, so the TTFT a cache hit saves stands well
 * clear of the measurement noise of a 2-core machine running client and server together.
 */
const GPU = 'a100-80gb';

export const cacheStrategies: Scenario = {
  name: 'cache-strategies',
  summary:
    'the multi-turn workload against nimsim with caching off / LRU / FIFO / LFU / LRU+host at two cache sizes',
  async run(ctx) {
    if (ctx.url !== undefined)
      throw new Error('cache-strategies starts its own nimsim processes; drop --url');
    const w = multiTurnWorkload(ctx);
    // Faster than real time keeps the run short, but the server's own CPU time per request (chat
    // template, tokenizer, JSON over a 3,000-token history) is not scaled down, so it is multiplied
    // by the time scale in the reported simulated times; 4 keeps it well below the prefill times.
    const timeScale = ctx.quick ? 4 : 2;
    const lag = startLoopLagMonitor();
    const runs: StrategyRun[] = [];
    const CACHE_BLOCKS = cacheBlocks(ctx.quick);
    for (const blocks of CACHE_BLOCKS) {
      for (const s of STRATEGIES) {
        const started = await startNimsim(ctx, {
          'time-scale': timeScale,
          gpu: GPU,
          'kv-cache-blocks': blocks,
          ...s.flags,
        });
        try {
          const records = await runMultiTurn(ctx, started, w, `${s.name} @ ${blocks} blocks`);
          const metricsText = await getText(started.target, '/metrics');
          const hits = promValue(metricsText, 'vllm:prefix_cache_hits_total');
          const queries = promValue(metricsText, 'vllm:prefix_cache_queries_total');
          runs.push({
            strategy: s.name,
            kvCacheBlocks: blocks,
            metrics: aggregate(records, timeScale),
            laterTurns: aggregate(
              records.filter((r) => r.turn > 0),
              timeScale,
            ),
            server: {
              prefixHitRate:
                hits !== undefined && queries !== undefined && queries > 0 ? hits / queries : undefined,
              preemptions: promValue(metricsText, 'vllm:num_preemptions_total'),
              evictions: promValue(metricsText, 'nimsim_kv_cache_evictions_total'),
              hostHits: promValue(metricsText, 'nimsim_kv_cache_host_hits_total'),
            },
          });
        } finally {
          await started.stop();
        }
      }
    }
    const clientLoopLag = lag.stop();

    const find = (strategy: string, blocks: number) =>
      runs.find((r) => r.strategy === strategy && r.kvCacheBlocks === blocks)!;
    const checks: Check[] = runs.flatMap((r) =>
      runChecks(`${r.strategy} @ ${r.kvCacheBlocks}`, r.metrics, w.outputTokens),
    );
    for (const blocks of CACHE_BLOCKS) {
      const off = find('off', blocks);
      const lru = find('lru', blocks);
      checks.push(
        {
          name: `caching on beats caching off on TTFT @ ${blocks} blocks`,
          ok: lru.metrics.ttftMs.mean < off.metrics.ttftMs.mean,
          detail: `TTFT mean lru ${num(lru.metrics.ttftMs.mean)} ms vs off ${num(off.metrics.ttftMs.mean)} ms`,
        },
        {
          name: `hit rates sane @ ${blocks} blocks`,
          ok:
            off.metrics.cacheHitRate === 0 && lru.metrics.cacheHitRate > 0.3 && lru.metrics.cacheHitRate <= 1,
          detail: `off ${num(off.metrics.cacheHitRate * 100)} %, lru ${num(lru.metrics.cacheHitRate * 100)} %`,
        },
      );
    }

    const sections = cacheStrategySections(runs, CACHE_BLOCKS, HOST_BLOCKS);
    const rows = runs.map((r) => ({
      strategy: r.strategy,
      size: `${r.kvCacheBlocks} blocks`,
      'hit rate %': r.metrics.cacheHitRate * 100,
      'TTFT mean ms': r.metrics.ttftMs.mean,
      'TTFT p90 ms': r.metrics.ttftMs.p90,
    }));
    return {
      scenario: 'cache-strategies',
      title: 'Caching strategies on a multi-turn workload',
      quick: ctx.quick,
      target:
        `${STRATEGIES.length * CACHE_BLOCKS.length} nimsim child processes (${ctx.model} on one ${GPU}), ` +
        `time scale ${timeScale}`,
      notes: [
        describeWorkload(w),
        `Each configuration is a fresh nimsim (so caches start empty) at --time-scale ${timeScale}; every time in ` +
          `this report is the client's wall time × ${timeScale} (simulated time) and every rate ÷ ${timeScale}. ` +
          'Hit rate is Σ usage.prompt_tokens_details.cached_tokens / Σ usage.prompt_tokens as the client saw it; ' +
          "'server hit %' is vllm:prefix_cache_hits_total / vllm:prefix_cache_queries_total from /metrics.",
        `Strategies: off = --enable-kv-cache-reuse 0; lru / fifo / lfu = --kv-eviction; lru+host = LRU plus ` +
          `--kv-host-cache-blocks ${HOST_BLOCKS}. Cache sizes: --kv-cache-blocks ${CACHE_BLOCKS.join(' and ')} (16 tokens each).`,
      ],
      conclusions: sections.conclusions,
      tables: [sections.table],
      charts: [
        {
          file: 'hit-rate-per-strategy.svg',
          spec: groupedBarChart({
            title: 'Prefix-cache hit rate per strategy',
            rows,
            category: 'strategy',
            categoryTitle: 'strategy',
            group: 'size',
            value: 'hit rate %',
            valueTitle: 'hit rate (% of prompt tokens)',
            max: 100,
          }),
        },
        {
          file: 'ttft-per-strategy.svg',
          spec: groupedBarChart({
            title: 'Mean TTFT per strategy, simulated ms',
            rows,
            category: 'strategy',
            categoryTitle: 'strategy',
            group: 'size',
            value: 'TTFT mean ms',
            valueTitle: 'TTFT mean (ms)',
            valueFormat: '.1f',
            // "off" at the small cache is ~20× the rest: on a linear axis it flattens every bar that matters.
            scale: 'auto',
          }),
        },
      ],
      checks,
      clientLoopLag,
      data: { workload: w, timeScale, cacheBlocks: CACHE_BLOCKS, runs },
    };
  },
};
