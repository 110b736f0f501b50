/** /admin/*: the effective configuration and the KV cache's state (behind NIMSIM_ADMIN_TOKEN). */
import type { Hono } from 'hono';
import type { KvCacheManager } from '../../engine/kv-cache/kv-cache-manager.js';

export interface AdminDeps {
  readonly describeConfig: () => Record<string, unknown>;
  readonly kv: KvCacheManager;
}

export function registerAdminRoutes(app: Hono, deps: AdminDeps): void {
  app.get('/admin/config', (c) => c.json(deps.describeConfig()));
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
