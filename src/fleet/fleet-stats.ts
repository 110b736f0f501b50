/** The fleet's snapshot: its replicas' summed (counters, capacities) or worst (lag) figures. */
import type { EngineStats, LoraAdapterStats, SharedPrefixStats } from '../engine/types.js';

export function sumStats(all: readonly EngineStats[]): EngineStats {
  const first = all[0]!;
  let running = 0;
  let waiting = 0;
  let maxNumSeqs = 0;
  let kvBlocksTotal = 0;
  let kvBlocksInUse = 0;
  let stepLagMs = 0;
  let steps = 0;
  const gpu = { total: 0, inUse: 0, reusable: 0, free: 0, cached: 0 };
  const host = { total: 0, used: 0 };
  const disk = { total: 0, used: 0 };
  let queryTokens = 0;
  let hitTokens = 0;
  let hostHitTokens = 0;
  let diskHitTokens = 0;
  let preemptedQueryTokens = 0;
  let preemptedHitTokens = 0;
  let evictions = 0;
  let hostEvictions = 0;
  let diskEvictions = 0;
  for (const s of all) {
    running += s.running;
    waiting += s.waiting;
    maxNumSeqs += s.maxNumSeqs;
    kvBlocksTotal += s.kvBlocksTotal;
    kvBlocksInUse += s.kvBlocksInUse;
    stepLagMs = Math.max(stepLagMs, s.stepLagMs);
    steps += s.steps;
    const k = s.kvCache;
    gpu.total += k.gpu.total;
    gpu.inUse += k.gpu.inUse;
    gpu.reusable += k.gpu.reusable;
    gpu.free += k.gpu.free;
    gpu.cached += k.gpu.cached;
    host.total += k.host.total;
    host.used += k.host.used;
    disk.total += k.disk.total;
    disk.used += k.disk.used;
    queryTokens += k.queryTokens;
    hitTokens += k.hitTokens;
    hostHitTokens += k.hostHitTokens;
    diskHitTokens += k.diskHitTokens;
    preemptedQueryTokens += k.preemptedQueryTokens;
    preemptedHitTokens += k.preemptedHitTokens;
    evictions += k.evictions;
    hostEvictions += k.hostEvictions;
    diskEvictions += k.diskEvictions;
  }
  const loraAdapters = mergeLoraAdapters(all);
  const stats: EngineStats = {
    running,
    waiting,
    maxNumSeqs,
    kvBlocksTotal,
    kvBlocksInUse,
    kvUsage: kvBlocksTotal > 0 ? kvBlocksInUse / kvBlocksTotal : 0,
    stepLagMs,
    steps,
    kvCache: {
      blockSize: first.kvCache.blockSize,
      gpu,
      host,
      disk,
      queryTokens,
      hitTokens,
      hostHitTokens,
      diskHitTokens,
      preemptedQueryTokens,
      preemptedHitTokens,
      evictions,
      hostEvictions,
      diskEvictions,
    },
  };
  return loraAdapters ? { ...stats, loraAdapters } : stats;
}

/**
 * The adapters in use on any replica, each name once (replica 0's first), and one replica's limit:
 * a batch is one replica's. Undefined when LoRA is disabled.
 */
function mergeLoraAdapters(all: readonly EngineStats[]): LoraAdapterStats | undefined {
  const first = all[0]?.loraAdapters;
  if (!first) return undefined;
  const running = new Set<string>();
  const waiting = new Set<string>();
  for (const s of all) {
    for (const name of s.loraAdapters?.running ?? []) running.add(name);
    for (const name of s.loraAdapters?.waiting ?? []) waiting.add(name);
  }
  return { maxLoras: first.maxLoras, running: [...running], waiting: [...waiting] };
}

/**
 * The `n` most hit shared prefixes across replicas: one prefix cached on several replicas is one
 * entry (hits summed, its longest run kept), recognised by its first tokens and length.
 */
export function mergeTopPrefixes(
  lists: readonly (readonly SharedPrefixStats[])[],
  n: number,
): SharedPrefixStats[] {
  const merged = new Map<string, SharedPrefixStats>();
  for (const list of lists) {
    for (const p of list) {
      const key = p.firstTokenIds.join(',');
      const seen = merged.get(key);
      merged.set(
        key,
        seen
          ? {
              blocks: Math.max(seen.blocks, p.blocks),
              tokens: Math.max(seen.tokens, p.tokens),
              hits: seen.hits + p.hits,
              firstTokenIds: p.firstTokenIds,
            }
          : p,
      );
    }
  }
  return [...merged.values()].sort((a, b) => b.hits - a.hits).slice(0, n);
}
