/**
 * The fleet's part of a `simulate` report (--replicas > 1): the router, each replica's share of the
 * completed requests with its prefix hit rate, peak KV usage and TTFT, and how uneven the shares are.
 */
import type { Fleet } from '../fleet/fleet.js';
import { isDisaggFleet } from '../fleet/disagg/disagg-fleet.js';
import type { Outcomes } from './outcomes.js';
import { distribution, type ReplicaReport, type SimulationReport } from './report.js';

export function fleetReport(
  fleet: Fleet,
  o: Outcomes,
): Pick<SimulationReport, 'router' | 'by_replica' | 'load_imbalance' | 'router_cached_tokens'> {
  const n = fleet.replicas.length;
  const ttfts: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < o.length; i++) ttfts[o.replica[i]!]!.push(o.firstTokenMs[i]! - o.arrivalMs[i]!);
  const roles = isDisaggFleet(fleet) ? fleet.roles : undefined;
  const byReplica: ReplicaReport[] = fleet.replicas.map((r, i) => {
    const { queryTokens, hitTokens } = r.stats().kvCache;
    // A prefill replica's requests are the prompts it prefilled (their tokens came from a decode replica).
    const prefill = roles?.[i] === 'prefill';
    return {
      replica: i,
      ...(roles ? { role: roles[i] } : {}),
      requests: prefill ? r.routed : ttfts[i]!.length,
      prefix_cache_hit_rate: queryTokens > 0 ? round4(hitTokens / queryTokens) : 0,
      kv_cache_peak_usage: round4(r.peakKvUsage),
      ttft_ms: distribution(ttfts[i]!),
    };
  });
  // Disaggregated: every request ends on a decode replica, so the decode replicas share them.
  const sharing = roles ? byReplica.filter((r) => r.role === 'decode') : byReplica;
  const mean = o.length / sharing.length;
  const max = Math.max(...sharing.map((r) => r.requests));
  const routing = fleet.routing();
  return {
    router: fleet.router,
    by_replica: byReplica,
    load_imbalance: mean > 0 ? Math.round((max / mean) * 1000) / 1000 : 0,
    ...(fleet.router === 'kv-aware' || fleet.router === 'session'
      ? {
          router_cached_tokens: {
            predicted: routing.predictedCachedTokens,
            found: routing.actualCachedTokens,
          },
        }
      : {}),
  };
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
