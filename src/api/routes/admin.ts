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
   * The keys PATCH /admin/config may change: fault rate, types and delay, time scale, jitter.
   * Scripted replies add their `rules` key with `live.register('rules', …)` in server.ts.
   */
  readonly live?: LiveConfig;
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
    const { kvCache: s, kvUsage } = deps.engine.stats();
    return c.json({
      block_size: s.blockSize,
      gpu: s.gpu,
      host: s.host,
      usage: kvUsage,
      query_tokens: s.queryTokens,
      hit_tokens: s.hitTokens,
      host_hit_tokens: s.hostHitTokens,
      hit_rate: s.queryTokens > 0 ? s.hitTokens / s.queryTokens : 0,
      // Re-admissions of preempted requests, counted apart as vLLM does (they find their own blocks).
      preempted_query_tokens: s.preemptedQueryTokens,
      preempted_hit_tokens: s.preemptedHitTokens,
      evictions: s.evictions,
      host_evictions: s.hostEvictions,
      top_prefixes: deps.engine.topPrefixes(10),
      // ?blocks=1: every cached block's key per tier (a key two GPU blocks hold appears twice), what
      // a KV-event subscriber should hold; O(blocks), for checking a router's index.
      ...(c.req.query('blocks') === '1' ? { blocks: deps.engine.cachedBlockKeys() } : {}),
    });
  });
  routes.post('/admin/kv-cache/reset', (c) => {
    deps.engine.resetPrefixCache();
    return c.json({ reset: true, gpu: deps.engine.stats().kvCache.gpu });
  });
}
