import { describe, expect, it } from 'vitest';
import type { RunMetrics } from '../../load-tests/lib/metrics.js';
import { summarize } from '../../load-tests/lib/percentiles.js';
import { promByLabel, promSamples, promTotal } from '../../load-tests/lib/prom-text.js';
import type { Table } from '../../load-tests/lib/report.js';
import { replicaHeader } from '../../load-tests/lib/sse-client.js';
import {
  tenantOwners,
  tenantSystemPrompt,
  type TenantWorkload,
} from '../../load-tests/lib/tenant-sessions.js';
import {
  loadImbalance,
  replicaCounts,
  routingSections,
  type ReplicaCounts,
  type RouterRun,
  type SimRun,
} from '../../load-tests/scenarios/routing-report.js';

/** A run with these TTFTs and this hit rate; the rest follows from them. */
function metrics(ttftMs: number[], hitRate: number): RunMetrics {
  const n = ttftMs.length;
  const prompt = 1000;
  return {
    requests: n,
    succeeded: n,
    errorsByStatus: {},
    firstErrors: {},
    durationS: 10,
    requestsPerS: n / 10,
    outputTokensPerS: 900,
    outputTokensTotal: 100 * n,
    ttftMs: summarize(ttftMs),
    itlMs: summarize(ttftMs.map(() => 15)),
    e2eMs: summarize(ttftMs.map((t) => t + 1500)),
    tokensPerSPerUser: summarize(ttftMs.map(() => 1000 / 15)),
    promptTokens: summarize(ttftMs.map(() => prompt)),
    cachedTokens: summarize(ttftMs.map(() => prompt * hitRate)),
    cacheHitRate: hitRate,
  };
}

const NO_COUNTS: ReplicaCounts = { source: 'n/a', counts: undefined };

function router(
  name: string,
  ttftMs: number[],
  hitRate: number,
  perReplica: ReplicaCounts = NO_COUNTS,
  serverHitRate: number | undefined = hitRate,
): RouterRun {
  return {
    router: name,
    metrics: metrics(ttftMs, hitRate),
    serverHitRate,
    perReplica,
    evictions: 100,
    preemptions: 0,
  };
}

function sim(replicas: number, name: string, hitRate: number, ttftMeanMs: number, loadImbalance = 1): SimRun {
  return {
    replicas,
    router: name,
    concurrency: 8 * replicas,
    requests: 40 * replicas,
    hitRate,
    ttftMeanMs,
    ttftP90Ms: ttftMeanMs * 2,
    loadImbalance,
    preemptions: 0,
    simulatedS: 18.5,
    wallS: 0.25,
  };
}

/** The decimal numbers the conclusions state that are no cell of the tables (ratios "6×" aside). */
function numbersNotInTables(conclusions: readonly string[], tables: readonly Table[]): string[] {
  const cells = new Set(tables.flatMap((t) => t.rows.flat().map(String)));
  return conclusions
    .flatMap((c) => [...c.matchAll(/(?<![\w.])(\d+\.\d+)(?!×|\d)/g)].map((m) => m[1]!))
    .filter((x) => !cells.has(x));
}

const SIMS: SimRun[] = [4, 8].flatMap((n) => [
  sim(n, 'round-robin', 0.56, 102),
  sim(n, 'kv-aware', 0.72 + n / 1000, 70),
  sim(n, 'session', 0.83 + n / 1000, 60, 1 + n / 10),
]);

describe('routing conclusions', () => {
  const runs = [
    router('round-robin', [100, 140, 300], 0.584),
    router('kv-aware', [40, 50, 90], 0.749),
    router('session', [30, 35, 56], 0.842),
  ];
  const s = routingSections(runs, SIMS, 4);
  const text = s.conclusions.join('\n');

  it('states only numbers of its tables', () => {
    expect(numbersNotInTables(s.conclusions, [s.liveTable, s.simTable])).toEqual([]);
  });

  it('orders the routers by hit rate and TTFT as the table shows them', () => {
    expect(text).toContain('highest first: session 84.2 %, kv-aware 74.9 %, round-robin 58.4 %');
    expect(text).toContain(
      'TTFT mean, lowest first: session 40.3 ms, kv-aware 60.0 ms, round-robin 180.0 ms',
    );
    expect(text).toContain('also started tokens soonest');
    expect(s.liveTable.rows.map((r) => r[4])).toEqual(['180.0', '60.0', '40.3']);
  });

  it('says balance is unknown when the server did not say which replica served what', () => {
    expect(text).toContain('balance is n/a here');
    expect(s.liveTable.note).toContain('Requests per replica: n/a');
    expect(s.liveTable.rows.every((r) => r[10] === 'n/a' && r[11] === 'n/a')).toBe(true);
  });

  it('compares the live ranking with simulate at the same fleet size', () => {
    expect(text).toContain('both put session first and round-robin last.');
    expect(text).toContain('at 8 replicas session hit most (83.8 %) and had the lowest mean TTFT');
    expect(text).toContain('session 83.4 % at 4 to 83.8 % at 8');
    expect(text).toContain('The least even fleet offline: session at 8 replicas (load imbalance 1.80)');
  });

  it('totals the simulations in the table it cites', () => {
    const total = s.simTable.rows.at(-1)!;
    expect(total[0]).toBe('all');
    expect(total.slice(-2)).toEqual(['111.0', '1.50']);
    expect(text).toContain(
      'The 6 simulations covered 111.0 simulated seconds in 1.50 s of wall time (74× real time)',
    );
  });

  it('calls routers that cached alike a tie rather than naming the faster one', () => {
    const tie = routingSections(
      [
        router('random', [60, 70, 80], 0.601),
        router('least-loaded', [50, 60, 70], 0.596),
        router('round-robin', [90, 100, 110], 0.55),
      ],
      SIMS,
      4,
    );
    const t = tie.conclusions.join('\n');
    expect(t).toContain('random cached practically alike with least-loaded');
    expect(t).toContain('run-to-run noise, not routing');
    expect(t).not.toContain('started tokens soonest');
  });

  it('judges balance from the replica counts when it has them, and ties the worst to the hit rate', () => {
    const counted = routingSections(
      [
        router('round-robin', [100, 140, 300], 0.584, {
          source: 'x-nimsim-replica header',
          counts: [40, 40, 40, 40],
        }),
        router('session', [30, 35, 56], 0.842, {
          source: 'x-nimsim-replica header',
          counts: [70, 30, 30, 30],
        }),
      ],
      SIMS,
      4,
    );
    const t = counted.conclusions.join('\n');
    expect(t).toContain('most even under round-robin (load imbalance 1.00');
    expect(t).toContain('least even under session (1.75)');
    expect(t).toContain('Zipf-hot users stay on one replica');
    expect(counted.liveTable.rows[1]![10]).toBe('70 / 30 / 30 / 30');
    expect(numbersNotInTables(counted.conclusions, [counted.liveTable, counted.simTable])).toEqual([]);
  });

  it('reports a disagreement between the server counters and the client', () => {
    const off = routingSections(
      [router('round-robin', [100], 0.5, NO_COUNTS, 0.47), router('session', [30], 0.8)],
      SIMS,
      4,
    );
    expect(off.conclusions.join('\n')).toContain(
      'by up to 3 point(s) (round-robin: 50.0 % client against 47.0 % server)',
    );
  });

  it('names the highest-hit router that was not the fastest, with the imbalance that explains it', () => {
    const slow = routingSections(
      [
        router('least-loaded', [40, 50, 60], 0.6, {
          source: 'nimsim_router_requests_total',
          counts: [25, 25, 25, 25],
        }),
        router('session', [60, 80, 400], 0.84, {
          source: 'nimsim_router_requests_total',
          counts: [55, 15, 15, 15],
        }),
      ],
      SIMS,
      4,
    );
    const t = slow.conclusions.join('\n');
    expect(t).toContain('The highest hit rate (session) did not give the lowest mean TTFT (least-loaded)');
    expect(t).toContain('load imbalance 2.20 against 1.00');
  });
});

describe('requests per replica', () => {
  it('counts the x-nimsim-replica header when every request carried it', () => {
    expect(replicaCounts([0, 1, 1, 3], 4, undefined, undefined)).toEqual({
      source: 'x-nimsim-replica header',
      counts: [1, 2, 0, 1],
    });
  });

  it('falls back to the growth of nimsim_router_requests_total, then to n/a', () => {
    const before = new Map([
      ['0', 2],
      ['1', 2],
    ]);
    const after = new Map([
      ['0', 12],
      ['1', 7],
      ['2', 5],
    ]);
    expect(replicaCounts([0, undefined], 3, before, after)).toEqual({
      source: 'nimsim_router_requests_total',
      counts: [10, 5, 5],
    });
    expect(replicaCounts([undefined], 3, undefined, undefined)).toEqual({ source: 'n/a', counts: undefined });
    // An index beyond the fleet is not a count to trust.
    expect(replicaCounts([0, 4], 4, undefined, undefined).source).toBe('n/a');
  });

  it('gives the load imbalance as simulate does: busiest ÷ mean', () => {
    expect(loadImbalance([10, 10, 10, 10])).toBe(1);
    expect(loadImbalance([70, 30, 30, 30])).toBe(1.75);
    expect(loadImbalance([0, 0])).toBeNaN();
  });

  it('reads the replica header value', () => {
    expect(replicaHeader('3')).toBe(3);
    expect(replicaHeader(['1', '2'])).toBe(1);
    expect(replicaHeader(undefined)).toBeUndefined();
    expect(replicaHeader('replica-1')).toBeUndefined();
  });
});

describe('Prometheus text', () => {
  const text = [
    '# HELP vllm:prefix_cache_hits_total Prefix cache hits, in tokens.',
    '# TYPE vllm:prefix_cache_hits_total counter',
    'vllm:prefix_cache_hits_total{model_name="m"} 120',
    'vllm:prefix_cache_hits_total_created{model_name="m"} 1700000000',
    'vllm:prefix_cache_queries_total{model_name="m",engine="0"} 100',
    'vllm:prefix_cache_queries_total{model_name="m",engine="1"} 50',
    'vllm:prefix_cache_queries_total{model_name="m"} 150',
    'nimsim_router_requests_total{router="session",replica="0"} 7',
    'nimsim_router_requests_total{router="session",replica="1"} 3',
    'nimsim_kv_cache_evictions_total 42',
  ].join('\n');

  it('reads labelled and unlabelled samples, not a longer name that starts the same', () => {
    expect(promSamples(text, 'vllm:prefix_cache_hits_total')).toEqual([
      { labels: { model_name: 'm' }, value: 120 },
    ]);
    expect(promTotal(text, 'nimsim_kv_cache_evictions_total')).toBe(42);
    expect(promTotal(text, 'vllm:num_preemptions_total')).toBeUndefined();
    expect(promTotal(undefined, 'x')).toBeUndefined();
  });

  it('sums per-engine samples and ignores an aggregate beside them', () => {
    expect(promTotal(text, 'vllm:prefix_cache_queries_total')).toBe(150);
  });

  it('groups a counter by a label', () => {
    expect(promByLabel(text, 'nimsim_router_requests_total', 'replica')).toEqual(
      new Map([
        ['0', 7],
        ['1', 3],
      ]),
    );
    expect(promByLabel(text, 'nimsim_kv_cache_evictions_total', 'replica')).toBeUndefined();
  });
});

describe('multi-tenant sessions', () => {
  const w: TenantWorkload = {
    tenants: 8,
    usersPerTenant: 50,
    tenantZipf: 1,
    userZipf: 1,
    concurrency: 32,
    requests: 160,
    turns: 4,
    systemTokens: 20,
    inputTokens: 10,
    outputTokens: 10,
    thinkTimeMs: 100,
    seed: 0,
  };

  it('gives session i the same owner whatever order sessions are asked for', () => {
    const a = tenantOwners(w);
    const b = tenantOwners(w);
    const late = b(99);
    expect(a(0)).toEqual(b(0));
    expect(a(99)).toEqual(late);
    expect(a(5).sessionKey).toBe(`tenant-${a(5).tenant}/user-${a(5).user}`);
  });

  it('draws tenants from a Zipf distribution: tenant 0 the most frequent', () => {
    const owner = tenantOwners(w);
    const perTenant = new Array<number>(w.tenants).fill(0);
    for (let i = 0; i < 4000; i++) perTenant[owner(i).tenant]!++;
    // P(0) / P(7) = 8 for s = 1.
    expect(perTenant[0]).toBe(Math.max(...perTenant));
    expect(perTenant[0]! / perTenant[7]!).toBeGreaterThan(5);
    expect(perTenant[0]! / perTenant[7]!).toBeLessThan(12);
  });

  it('gives each tenant one system prompt of its own', () => {
    expect(tenantSystemPrompt(w, 3)).toEqual(tenantSystemPrompt(w, 3));
    expect(tenantSystemPrompt(w, 3).content).not.toBe(tenantSystemPrompt(w, 4).content);
    expect(tenantSystemPrompt(w, 3).role).toBe('system');
  });
});
