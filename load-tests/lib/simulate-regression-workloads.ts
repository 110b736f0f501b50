/**
 * The workloads simulate-regression.ts runs: each a `nimsim simulate --json` invocation, with a
 * name (its baseline file) and why it is in the set (the behaviour it exercises). The paths of the
 * traces are relative to the repository root, where the script runs the simulator.
 */
import { join } from 'node:path';

const TRACE_HASH_IDS = join('load-tests', 'traces', 'hash-ids-sample.jsonl');
const TRACE_LENGTHS = join('load-tests', 'traces', 'sample.jsonl');

export interface Workload {
  readonly name: string;
  readonly why: string;
  readonly args: readonly string[];
}

/**
 * A multi-turn workload whose conversations overflow a small cache between turns: blocks are
 * evicted (the policies pick different victims: their hit rates differ) but nothing is preempted.
 */
const EVICTION_BASE = [
  '--concurrency',
  '48',
  '--requests',
  '600',
  '--turns',
  '3',
  '--shared-prefix-tokens',
  '512',
  '--input-tokens',
  '300',
  '--output-tokens',
  '120',
  '--think-time-ms',
  '2000',
  '--kv-cache-blocks',
  '2500',
] as const;

/** A fleet's common workload: multi-turn sessions over a shared prefix, enough to spread. */
const FLEET_BASE = [
  '--concurrency',
  '128',
  '--requests',
  '1200',
  '--turns',
  '3',
  '--shared-prefix-tokens',
  '600',
  '--input-tokens',
  '200',
  '--output-tokens',
  '80',
  '--think-time-ms',
  '500',
] as const;

/** Multi-tenant chat behind a fleet: per-tenant system prompts, Zipf users, 4-turn sessions. */
const TENANTS_BASE = [
  '--tenants',
  '12',
  '--users-per-tenant',
  '40',
  '--shared-prefix-tokens',
  '500',
  '--turns',
  '4',
  '--input-tokens',
  '150',
  '--output-tokens',
  '120',
  '--think-time-ms',
  '1500',
  '--concurrency',
  '160',
  '--requests',
  '1600',
  '--kv-cache-blocks',
  '3000',
] as const;

const FLEET_ROUTERS = ['round-robin', 'random', 'least-loaded', 'kv-aware', 'session'] as const;

/** Each router at 4 and at 8 replicas on the fleet workload, then tenants with the prefix routers. */
const FLEET_WORKLOADS: readonly Workload[] = [
  ...FLEET_ROUTERS.flatMap((router) =>
    ['4', '8'].map((replicas) => ({
      name: `fleet-${replicas}-${router}`,
      why: `${replicas} replicas behind the ${router} router, multi-turn sessions over a shared prefix`,
      args: [...FLEET_BASE, '--replicas', replicas, '--router', router],
    })),
  ),
  ...(['kv-aware', 'session', 'round-robin'] as const).map((router) => ({
    name: `tenants-8-${router}`,
    why: `multi-tenant chat (own system prompts, Zipf users) on 8 replicas, ${router} router`,
    args: [...TENANTS_BASE, '--replicas', '8', '--router', router],
  })),
  {
    name: 'tenants-8-kv-aware-softmax',
    why: 'the multi-tenant workload on 8 replicas, kv-aware router sampling at a temperature',
    args: [...TENANTS_BASE, '--replicas', '8', '--router', 'kv-aware', '--router-temperature', '0.5'],
  },
  {
    name: 'tenants-1-replica',
    why: 'the multi-tenant workload on one engine (no fleet)',
    args: [...TENANTS_BASE],
  },
];

export const WORKLOADS: readonly Workload[] = [
  { name: 'default', why: 'every default: 100 requests one at a time', args: [] },
  {
    name: 'concurrency-250',
    why: '250 sessions in flight, 2,000 requests: batching, queueing, the cache at scale',
    args: ['--concurrency', '250', '--requests', '2000'],
  },
  {
    name: 'identical-prompts',
    why: 'many requests of one long prompt at once: many cached copies of the same blocks',
    args: [
      '--concurrency',
      '128',
      '--requests',
      '1500',
      '--shared-prefix-tokens',
      '2048',
      '--input-tokens',
      '1',
      '--output-tokens',
      '40',
    ],
  },
  {
    name: 'multi-turn-shared-prefix',
    why: 'sessions of 4 turns resending their history after a shared system prompt, with think time',
    args: [
      '--concurrency',
      '32',
      '--requests',
      '640',
      '--turns',
      '4',
      '--shared-prefix-tokens',
      '1000',
      '--think-time-ms',
      '400',
    ],
  },
  {
    name: 'evict-lru',
    why: 'eviction under a small --kv-cache-blocks, LRU',
    args: [...EVICTION_BASE, '--kv-eviction', 'lru'],
  },
  {
    name: 'evict-fifo',
    why: 'eviction under a small --kv-cache-blocks, FIFO',
    args: [...EVICTION_BASE, '--kv-eviction', 'fifo'],
  },
  {
    name: 'evict-lfu',
    why: 'eviction under a small --kv-cache-blocks, LFU',
    args: [...EVICTION_BASE, '--kv-eviction', 'lfu'],
  },
  {
    name: 'host-tier',
    why: 'GPU evictions land in a host tier and come back from it',
    args: [...EVICTION_BASE, '--kv-eviction', 'lru', '--kv-host-cache-blocks', '3000'],
  },
  {
    name: 'disk-tier',
    why: 'a small host tier spilling to a local-disk tier (another drive): hits from all three tiers',
    args: [
      ...EVICTION_BASE,
      '--kv-eviction',
      'lru',
      '--kv-host-cache-blocks',
      '800',
      '--kv-disk-cache-blocks',
      '6000',
      '--kv-disk',
      'kioxia-cm6',
    ],
  },
  {
    name: 'preemption-chunked',
    why: 'long prompts, chunked prefill and a cache too small for the batch: preemptions',
    args: [
      '--concurrency',
      '64',
      '--requests',
      '300',
      '--input-tokens',
      '3000',
      '--output-tokens',
      '300',
      '--kv-cache-blocks',
      '1200',
      '--max-num-batched-tokens',
      '1024',
      '--kv-block-size',
      '32',
    ],
  },
  {
    name: 'trace-hash-ids',
    why: 'replay of a Mooncake trace with hash_ids (shared system prompts, growing conversations)',
    args: ['--trace', TRACE_HASH_IDS],
  },
  {
    name: 'trace-lengths',
    why: 'replay of a trace of lengths and sessions, small trace blocks',
    args: ['--trace', TRACE_LENGTHS, '--trace-block-size', '64'],
  },
  {
    name: 'length-stddev',
    why: 'input and output lengths drawn from seeded normals',
    args: [
      '--concurrency',
      '24',
      '--requests',
      '500',
      '--input-tokens',
      '400',
      '--input-tokens-stddev',
      '150',
      '--output-tokens',
      '150',
      '--output-tokens-stddev',
      '60',
      '--seed',
      '7',
    ],
  },
  {
    name: 'open-loop-slo',
    why: 'Poisson arrivals at a fixed rate, with goodput against TTFT and ITL objectives',
    args: [
      '--request-rate',
      '30',
      '--requests',
      '800',
      '--turns',
      '2',
      '--shared-prefix-tokens',
      '256',
      '--slo-ttft-ms',
      '25',
      '--slo-itl-ms',
      '12',
    ],
  },
  {
    name: 'caching-off',
    why: 'prefix caching disabled on a multi-turn workload (nothing hashed or matched)',
    args: [
      '--concurrency',
      '32',
      '--requests',
      '400',
      '--turns',
      '3',
      '--shared-prefix-tokens',
      '800',
      '--enable-kv-cache-reuse',
      '0',
    ],
  },
  {
    name: 'other-deployment',
    why: 'another model, GPU, precision and tensor-parallel size (70B bf16 TP4 on A100s)',
    args: [
      '--model',
      'meta/llama-3.1-70b-instruct',
      '--gpu',
      'a100-80gb',
      '--gpus',
      '4',
      '--precision',
      'bf16',
      '--tp',
      '4',
      '--concurrency',
      '64',
      '--requests',
      '500',
      '--turns',
      '2',
      '--shared-prefix-tokens',
      '600',
      '--max-num-seqs',
      '48',
    ],
  },
  {
    name: 'int4-tp2-queue-bound',
    why: 'a quantized TP2 profile and a bounded waiting queue that rejects with 429',
    args: [
      '--model',
      'meta/llama-3.1-70b-instruct',
      '--gpu',
      'a100-80gb',
      '--gpus',
      '2',
      '--precision',
      'int4_awq',
      '--tp',
      '2',
      '--concurrency',
      '200',
      '--requests',
      '800',
      '--max-num-seqs',
      '16',
      '--max-waiting',
      '64',
    ],
  },
  ...FLEET_WORKLOADS,
  {
    name: 'disagg-2p2d-conditional',
    why:
      'disaggregated, 2 prefill and 2 decode replicas (decode TP 2) over InfiniBand, 2-turn sessions whose ' +
      'lengths straddle max_local_prefill_length: remote and local prefills, goodput against objectives',
    args: [
      '--prefill-replicas',
      '2',
      '--decode-replicas',
      '2',
      '--decode-tp',
      '2',
      '--kv-transfer-link',
      'ib-ndr',
      '--request-rate',
      '10',
      '--requests',
      '600',
      '--turns',
      '2',
      '--shared-prefix-tokens',
      '512',
      '--input-tokens',
      '1000',
      '--input-tokens-stddev',
      '300',
      '--output-tokens',
      '100',
      '--think-time-ms',
      '300',
      '--slo-ttft-ms',
      '40',
      '--slo-itl-ms',
      '4',
    ],
  },
];
