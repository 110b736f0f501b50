/** Settings of one engine: its scheduler's bounds, its KV cache and tiers, its step-time noise. */
import { bool, int, num, oneOf, str } from './value-schemas.js';
import { settingGroup } from './define.js';

/** Bound of the KV capacity settings (blocks); see kvCacheBlocks. */
const MAX_KV_BLOCKS = 10_000_000;

/** Jitter of `serve` when NIMSIM_JITTER is unset: a little, so latencies look measured (simulate: 0). */
export const SERVE_DEFAULT_JITTER = 0.03;

export const ENGINE_KV_CACHE_SETTINGS = settingGroup('engine', {
  enableKvCacheReuse: {
    env: 'NIM_ENABLE_KV_CACHE_REUSE',
    schema: bool(),
    default: '1',
    help: 'prefix caching on (1) or off (0)',
    arg: '<0|1>',
  },
  kvBlockSize: {
    env: 'NIMSIM_KV_BLOCK_SIZE',
    schema: int(1, 1024),
    default: '16',
    help: 'tokens per KV block',
    arg: '<n>',
  },
  kvCacheBlocks: {
    env: 'NIMSIM_KV_CACHE_BLOCKS',
    // Per-block state is preallocated; 10M blocks (160M tokens at 16) is far beyond any real GPU.
    schema: int(1, MAX_KV_BLOCKS),
    unsetMeans: 'from GPU memory',
    help: 'GPU KV capacity in blocks',
    arg: '<n>',
  },
  kvEviction: {
    env: 'NIMSIM_KV_EVICTION',
    schema: oneOf(['lru', 'fifo', 'lfu']),
    default: 'lru',
    help: "policy for cached blocks no request holds: lru (vLLM's), fifo, lfu",
    arg: '<policy>',
  },
  kvHostCacheBlocks: {
    env: 'NIMSIM_KV_HOST_CACHE_BLOCKS',
    schema: int(0, MAX_KV_BLOCKS),
    default: '0',
    help: 'host (CPU) KV tier in blocks; GPU evictions land there (0 = off)',
    arg: '<n>',
  },
  kvDiskCacheBlocks: {
    env: 'NIMSIM_KV_DISK_CACHE_BLOCKS',
    schema: int(0, MAX_KV_BLOCKS),
    default: '0',
    help: 'local-disk (NVMe) KV tier in blocks, below the host tier (0 = off)',
    arg: '<n>',
  },
  kvDisk: {
    env: 'NIMSIM_KV_DISK',
    schema: str(),
    default: 'micron-9550',
    help: "the disk tier's NVMe drive: micron-9550 (Gen5), kioxia-cm6 (Gen4), micron-9200 (Gen3)",
    arg: '<drive>',
  },
  maxNumSeqs: {
    env: 'NIMSIM_MAX_NUM_SEQS',
    schema: int(1, 100_000),
    default: '256',
    help: 'most sequences running at once',
    arg: '<n>',
  },
  maxNumBatchedTokens: {
    env: 'NIMSIM_MAX_NUM_BATCHED_TOKENS',
    schema: int(1),
    default: '8192',
    help: 'token budget of one engine step (vLLM --max-num-batched-tokens)',
    arg: '<n>',
  },
  maxWaiting: {
    env: 'NIMSIM_MAX_WAITING',
    schema: int(0),
    default: '1024',
    help: 'bound of the waiting queue; beyond it 429',
    arg: '<n>',
  },
  jitter: {
    env: 'NIMSIM_JITTER',
    schema: num(0, 2),
    unsetMeans: { serve: String(SERVE_DEFAULT_JITTER), simulate: '0' },
    help: 'sigma of the lognormal step-time jitter',
    arg: '<sigma>',
  },
  seed: {
    env: 'NIMSIM_SEED',
    schema: int(0, 2 ** 32 - 1),
    default: '0',
    help: 'seed of every random choice (content, jitter, faults)',
    arg: '<n>',
  },
});
