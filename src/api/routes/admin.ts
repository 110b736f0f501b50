/**
 * /admin/*: the effective configuration (GET, secrets masked; PATCH changes the run-time knobs)
 * and the KV cache's state (behind NIMSIM_ADMIN_TOKEN).
 */
import type { Routes } from '../http/routes.js';
import type { ServingContext } from '../../serving/context.js';
import { readJsonValue } from '../http/body.js';
import { ApiError } from '../../serving/errors.js';
import type { LiveConfig } from '../admin/live-config.js';

export interface AdminDeps {
  /** The configuration as loaded (secrets masked); live values are laid over it. */
  readonly describeConfig: () => Record<string, unknown>;
  /** What /admin/kv-cache reads and resets: the engine's KV statistics, not its cache. */
  readonly engine: Pick<
    ServingContext['engine'],
    'stats' | 'resetPrefixCache' | 'topPrefixes' | 'cachedBlockKeys'
  >;
  /**
   * With several replicas, each one (`replicas[i]` is replica i): /admin/kv-cache reports each,
   * and `?replica=i` resets one.
   */
  readonly replicas?: readonly AdminReplica[];
  /** Disaggregated: each replica's role (`roles[i]` is replica i's), reported beside its index. */
  readonly roles?: readonly string[];
  /**
   * The keys PATCH /admin/config may change: fault rate, types and delay, time scale, jitter.
   * Scripted replies add their `rules` key with `live.register('rules', …)` in server.ts.
   */
  readonly live?: LiveConfig;
}

/** One replica as /admin sees it: its KV statistics and reset, and the requests routed to it. */
export type AdminReplica = Pick<
  ServingContext['engine'],
  'stats' | 'resetPrefixCache' | 'topPrefixes' | 'cachedBlockKeys'
> & { readonly routed: number };

type KvSource = Pick<ServingContext['engine'], 'stats' | 'topPrefixes' | 'cachedBlockKeys'>;

/** The /admin/kv-cache report of one engine (or of the whole fleet, its replicas summed). */
function kvCacheReport(source: KvSource, withBlocks: boolean): Record<string, unknown> {
  const { kvCache: s, kvUsage } = source.stats();
  return {
    block_size: s.blockSize,
    gpu: s.gpu,
    host: s.host,
    disk: s.disk,
    usage: kvUsage,
    query_tokens: s.queryTokens,
    hit_tokens: s.hitTokens,
    host_hit_tokens: s.hostHitTokens,
    disk_hit_tokens: s.diskHitTokens,
    hit_rate: s.queryTokens > 0 ? s.hitTokens / s.queryTokens : 0,
    // Re-admissions of preempted requests, counted apart as vLLM does (they find their own blocks).
    preempted_query_tokens: s.preemptedQueryTokens,
    preempted_hit_tokens: s.preemptedHitTokens,
    evictions: s.evictions,
    host_evictions: s.hostEvictions,
    disk_evictions: s.diskEvictions,
    top_prefixes: source.topPrefixes(10),
    // ?blocks=1: every cached block's key per tier (a key two GPU blocks hold appears twice; disk
    // only with a disk tier), what
    // a KV-event subscriber should hold; O(blocks), for checking a router's index.
    ...(withBlocks ? { blocks: source.cachedBlockKeys() } : {}),
  };
}

export function registerAdminRoutes(routes: Routes, deps: AdminDeps): void {
  const effective = () => ({ ...deps.describeConfig(), ...(deps.live?.effective() ?? {}) });
  routes.get('/admin/config', (c) => c.json(effective()));
  routes.patch('/admin/config', async (c) => {
    if (!deps.live) throw new ApiError(404, 'Nothing can be changed at run time here.');
    const changed = deps.live.patch(await readJsonValue(c));
    return c.json({ changed, config: effective() });
  });
  routes.get('/admin/kv-cache', (c) => {
    const withBlocks = c.req.query('blocks') === '1';
    return c.json({
      ...kvCacheReport(deps.engine, withBlocks),
      // Several replicas: the figures above are their sums, and each one's follow.
      ...(deps.replicas && {
        replicas: deps.replicas.map((r, i) => ({
          replica: i,
          ...(deps.roles && { role: deps.roles[i] }),
          routed_requests: r.routed,
          ...kvCacheReport(r, withBlocks),
        })),
      }),
    });
  });
  routes.post('/admin/kv-cache/reset', (c) => {
    const which = c.req.query('replica');
    if (which === undefined) {
      deps.engine.resetPrefixCache();
      return c.json({ reset: true, gpu: deps.engine.stats().kvCache.gpu });
    }
    const count = deps.replicas?.length ?? 1;
    const index = /^\d+$/.test(which) ? Number(which) : NaN;
    if (!(index < count))
      throw new ApiError(
        400,
        `replica must be an integer from 0 to ${count - 1}, got ${JSON.stringify(which)}`,
        'replica',
      );
    const target = deps.replicas?.[index] ?? deps.engine;
    target.resetPrefixCache();
    return c.json({ reset: true, replica: index, gpu: target.stats().kvCache.gpu });
  });
}
