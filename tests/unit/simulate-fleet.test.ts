/**
 * `simulate --replicas N --router P` on the multi-tenant workload (`--tenants`): the report's fleet
 * fields, routing that finds conversations' history where round robin loses it, and the Zipf
 * population behind the tenants.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createRandom } from '../../src/util/random.js';
import { runSimulation, type WorkloadOptions } from '../../src/simulate/simulate.js';
import { TenantMix, zipfSampler } from '../../src/simulate/tenants.js';

const WORKLOAD: WorkloadOptions = {
  concurrency: 48,
  requests: 900,
  inputTokens: 150,
  outputTokens: 120,
  sharedPrefixTokens: 300,
  turns: 5,
  thinkTimeMs: 2000,
  tenants: { tenants: 6, usersPerTenant: 40, tenantZipf: 1, userZipf: 1 },
};

const run = (settings: Record<string, string>, workload = WORKLOAD) =>
  runSimulation(loadConfig({ NIMSIM_REPLICAS: '4', ...settings }), workload);

describe('simulate with replicas', () => {
  it("reports each replica's share, hit rate and TTFT, and the imbalance of the shares", () => {
    const r = run({ NIMSIM_ROUTER: 'round-robin' });
    expect(r.router).toBe('round-robin');
    expect(r.by_replica).toHaveLength(4);
    const shares = r.by_replica!.map((x) => x.requests);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(r.requests);
    expect(r.load_imbalance).toBeCloseTo(Math.max(...shares) / (r.requests / 4), 3);
    for (const x of r.by_replica!) {
      expect(x.prefix_cache_hit_rate).toBeGreaterThan(0);
      expect(x.kv_cache_peak_usage).toBeGreaterThan(0);
      expect(x.kv_cache_peak_usage).toBeLessThanOrEqual(r.kv_cache_peak_usage);
      expect(x.ttft_ms.p90).toBeGreaterThanOrEqual(x.ttft_ms.p50);
    }
    expect(r.router_cached_tokens).toBeUndefined();
    // The tenants: tenant 0 is the Zipf head.
    expect(r.by_tenant).toHaveLength(6);
    expect(r.by_tenant!.reduce((a, t) => a + t.requests, 0)).toBe(r.requests);
    expect(r.by_tenant![0]!.requests).toBe(Math.max(...r.by_tenant!.map((t) => t.requests)));
  });

  it("kv-aware and session routing find the conversations' history that round robin loses", () => {
    const rr = run({ NIMSIM_ROUTER: 'round-robin' });
    const kv = run({ NIMSIM_ROUTER: 'kv-aware' });
    const session = run({ NIMSIM_ROUTER: 'session' });
    expect(kv.prefix_cache_hit_rate).toBeGreaterThan(rr.prefix_cache_hit_rate * 1.1);
    expect(session.prefix_cache_hit_rate).toBeGreaterThan(rr.prefix_cache_hit_rate * 1.3);
    expect(kv.ttft_ms.mean).toBeLessThan(rr.ttft_ms.mean);
    expect(kv.load_imbalance).toBeLessThan(1.3);
    // The router's index predicted nearly what the replicas found (they may find a little more:
    // blocks cached between the decision and the admission).
    const { predicted, found } = kv.router_cached_tokens!;
    expect(predicted).toBeGreaterThan(0);
    expect(predicted).toBeLessThanOrEqual(found);
    expect(predicted / found).toBeGreaterThan(0.9);
  });

  it('is reproducible for every router, and random depends on the seed', () => {
    for (const router of ['random', 'least-loaded', 'kv-aware']) {
      const a = run({ NIMSIM_ROUTER: router });
      const b = run({ NIMSIM_ROUTER: router });
      expect({ ...a, wall_s: 0, speedup: 0 }).toEqual({ ...b, wall_s: 0, speedup: 0 });
    }
    const other = run({ NIMSIM_ROUTER: 'random', NIMSIM_SEED: '9' });
    expect(other.by_replica).not.toEqual(run({ NIMSIM_ROUTER: 'random' }).by_replica);
  });

  it('adds no fleet fields with one replica', () => {
    const r = run({ NIMSIM_REPLICAS: '1' }, { ...WORKLOAD, tenants: undefined, requests: 100 });
    expect(r).not.toHaveProperty('router');
    expect(r).not.toHaveProperty('by_replica');
    expect(r).not.toHaveProperty('load_imbalance');
    expect(r).not.toHaveProperty('by_tenant');
  });
});

describe('tenant mix', () => {
  it('draws Zipf ranks: P(k) ∝ 1 / (k + 1)^s, uniform at s = 0', () => {
    const draws = 40_000;
    for (const s of [0, 1, 1.5]) {
      const next = zipfSampler(5, s, createRandom(11));
      const counts = [0, 0, 0, 0, 0];
      for (let i = 0; i < draws; i++) counts[next()]!++;
      const weights = [1, 2, 3, 4, 5].map((k) => 1 / Math.pow(k, s));
      const total = weights.reduce((a, b) => a + b, 0);
      counts.forEach((c, k) => expect(c / draws).toBeCloseTo(weights[k]! / total, 1));
    }
  });

  it('gives each tenant its own system prompt and each user a stable session key', () => {
    const mix = new TenantMix({ tenants: 3, usersPerTenant: 4, tenantZipf: 1, userZipf: 1 }, 64, 0);
    const owners = Array.from({ length: 200 }, () => mix.next());
    const prompts = new Map(owners.map((o) => [o.tenant, o.systemPrompt]));
    expect(prompts.size).toBe(3);
    for (const p of prompts.values()) expect(p).toHaveLength(64);
    expect(prompts.get(0)).not.toEqual(prompts.get(1));
    for (const o of owners) expect(o.sessionKey).toBe(`tenant-${o.tenant}/user-${o.user}`);
  });
});
