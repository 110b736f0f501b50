/**
 * /admin/*: the effective configuration (GET, secrets masked; PATCH changes the run-time knobs)
 * and the KV cache's state (behind NIMSIM_ADMIN_TOKEN).
 */
import type { Hono } from 'hono';
import type { KvCacheManager } from '../../engine/kv-cache/kv-cache-manager.js';
import { readJsonValue } from '../body.js';
import { ApiError } from '../errors.js';
import type { LiveConfig } from '../live-config.js';

export interface AdminDeps {
  /** The configuration as loaded (secrets masked); live values are laid over it. */
  readonly describeConfig: () => Record<string, unknown>;
  readonly kv: KvCacheManager;
  /**
   * The keys PATCH /admin/config may change: fault rate, types and delay, time scale, jitter.
   * Scripted replies (issue 8) add their `rules` key with `live.register('rules', …)` in server.ts.
   */
  readonly live?: LiveConfig;
}

export function registerAdminRoutes(app: Hono, deps: AdminDeps): void {
  const effective = () => ({ ...deps.describeConfig(), ...(deps.live?.effective() ?? {}) });
  app.get('/admin/config', (c) => c.json(effective()));
  app.patch('/admin/config', async (c) => {
    if (!deps.live) throw new ApiError(404, 'Nothing can be changed at run time here.');
    const changed = deps.live.patch(await readJsonValue(c));
    return c.json({ changed, config: effective() });
  });
  app.get('/admin/kv-cache', (c) => {
    const s = deps.kv.stats();
    return c.json({
      block_size: deps.kv.blockSize,
      gpu: s.gpu,
      host: s.host,
      usage: deps.kv.usage(),
      query_tokens: s.queryTokens,
      hit_tokens: s.hitTokens,
      host_hit_tokens: s.hostHitTokens,
      hit_rate: s.queryTokens > 0 ? s.hitTokens / s.queryTokens : 0,
      // Re-admissions of preempted requests, counted apart as vLLM does (they find their own blocks).
      preempted_query_tokens: s.preemptedQueryTokens,
      preempted_hit_tokens: s.preemptedHitTokens,
      evictions: s.evictions,
      host_evictions: s.hostEvictions,
      top_prefixes: deps.kv.topPrefixes(10),
    });
  });
  app.post('/admin/kv-cache/reset', (c) => {
    deps.kv.reset();
    return c.json({ reset: true, gpu: deps.kv.stats().gpu });
  });
}
