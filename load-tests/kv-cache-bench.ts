/**
 * KV cache micro-benchmark: 1 million cached blocks per eviction policy.
 *
 *   npx tsx load-tests/kv-cache-bench.ts [--blocks N]
 *   node --expose-gc --import tsx load-tests/kv-cache-bench.ts   # adds bytes per cached block
 *
 * Phases, each over N blocks (sequences of 64 blocks of 16 tokens):
 * - insert: admit a new prompt, mark it computed, free it (every block hashed and cached);
 * - lookup: peekPrefix on a cached prompt (64 chained hash lookups each);
 * - hit: admit a cached prompt and free it (pin + unpin every block through the eviction pool);
 * - evict: admit new prompts into the full cache (every allocation evicts a cached block);
 * - copies: admit one prompt of exactly 4 blocks N/4 times, compute it and free it: 3 blocks hit
 *   and the last is computed again (a lookup leaves at least one token to compute), so every
 *   request caches one more copy of the same key, as a server answering one prompt over and over
 *   does: N/4 copies of one key by the end, each evicting an older block. Its rate should stay
 *   in line with the others however many copies pile up.
 * Memory is (heap + array buffers after GC with the cache full) − (before the cache existed),
 * divided by the cached blocks; the `lru+host` row also reports the host tier's bytes per block
 * after the evict phase filled it. Rates are per block. Each phase stops early after 10 s.
 */
import type { EvictionPolicyName, KvCacheManager } from '../src/engine/kv-cache/kv-cache-manager.js';
import { createKvCacheManager } from '../src/engine/kv-cache/kv-cache-manager.js';

const BLOCK_SIZE = 16;
const BLOCKS_PER_SEQ = 64;
const SEQ_TOKENS = BLOCK_SIZE * BLOCKS_PER_SEQ;
const PHASE_LIMIT_MS = 10_000;
const COPIES_PROMPT_BLOCKS = 4;

const blocksArg = process.argv.indexOf('--blocks');
const numBlocks = blocksArg > 0 ? Number(process.argv[blocksArg + 1]) : 1_000_000;
const numSeqs = Math.floor(numBlocks / BLOCKS_PER_SEQ);
const gc = (globalThis as { gc?: () => void }).gc;

// One reused buffer: prompt s is s*SEQ_TOKENS … (s+1)*SEQ_TOKENS - 1, plus one token so that the
// whole 64-block prefix can hit (the last token is always recomputed).
const tokens = new Array<number>(SEQ_TOKENS + 1).fill(0);
function promptOf(s: number): number[] {
  const base = s * SEQ_TOKENS;
  for (let j = 0; j < SEQ_TOKENS; j++) tokens[j] = (base + j) % 2_000_000_000;
  tokens[SEQ_TOKENS] = 7;
  return tokens;
}

function memoryBytes(): number {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Runs `body(i)` for i = 0 … n-1 until done or the time limit; returns blocks per second. */
function timed(n: number, body: (i: number) => void, blocksPerCall = BLOCKS_PER_SEQ): number {
  const start = performance.now();
  let i = 0;
  for (; i < n; i++) {
    body(i);
    if ((i & 63) === 0 && performance.now() - start > PHASE_LIMIT_MS) break;
  }
  const seconds = (performance.now() - start) / 1000;
  return ((i === n ? n : i + 1) * blocksPerCall) / seconds;
}

interface Row {
  config: string;
  insertPerS: number;
  lookupPerS: number;
  hitPerS: number;
  evictPerS: number;
  copiesPerS: number;
  bytesPerBlock: number;
  hostBytesPerBlock: number;
}

function bench(eviction: EvictionPolicyName, hostBlocks: number): Row {
  let seqId = 0;
  const before = memoryBytes();
  const kv: KvCacheManager = createKvCacheManager({
    blockSize: BLOCK_SIZE,
    gpuBlocks: numSeqs * BLOCKS_PER_SEQ,
    hostBlocks,
    eviction,
    enableReuse: true,
    modelKey: 'meta/llama-3.1-8b-instruct',
  });
  const insertPerS = timed(numSeqs, (s) => {
    const id = seqId++;
    kv.admit(id, promptOf(s), SEQ_TOKENS);
    kv.cacheBlocks(id, tokens, SEQ_TOKENS);
    kv.free(id);
  });
  const cached = kv.stats().gpu.cached;
  const bytesPerBlock = (memoryBytes() - before) / cached;

  let found = 0;
  const lookupPerS = timed(numSeqs, (i) => {
    found += kv.peekPrefix(promptOf((i * 7919) % numSeqs)).gpuTokens;
  });
  const hitPerS = timed(numSeqs, (i) => {
    const id = seqId++;
    found += kv.admit(id, promptOf((i * 104_729) % numSeqs), SEQ_TOKENS)!.cachedTokens;
    kv.free(id);
  });
  if (found === 0) throw new Error('no prefix hit: the benchmark is broken');

  const afterFill = memoryBytes();
  const evictPerS = timed(numSeqs, (s) => {
    const id = seqId++;
    kv.admit(id, promptOf(numSeqs + s), SEQ_TOKENS);
    kv.cacheBlocks(id, tokens, SEQ_TOKENS);
    kv.free(id);
  });
  const stats = kv.stats();
  const hostBytesPerBlock = hostBlocks > 0 ? (memoryBytes() - afterFill) / stats.host.used : NaN;

  const repeated = promptOf(3 * numSeqs).slice(0, COPIES_PROMPT_BLOCKS * BLOCK_SIZE);
  const copiesPerS = timed(
    Math.floor(numBlocks / COPIES_PROMPT_BLOCKS),
    () => {
      const id = seqId++;
      kv.admit(id, repeated, repeated.length);
      kv.cacheBlocks(id, repeated, repeated.length);
      kv.free(id);
    },
    COPIES_PROMPT_BLOCKS,
  );
  if (kv.peekPrefix(repeated).gpuTokens !== repeated.length - BLOCK_SIZE)
    throw new Error('the repeated prompt is not cached');
  return {
    config: hostBlocks > 0 ? `${eviction}+host` : eviction,
    insertPerS,
    lookupPerS,
    hitPerS,
    evictPerS,
    copiesPerS,
    bytesPerBlock,
    hostBytesPerBlock,
  };
}

const fmtRate = (x: number) => `${(x / 1e6).toFixed(2)} M/s`;
const fmtBytes = (x: number) => (gc && Number.isFinite(x) ? `${Math.round(x)} B` : 'n/a');

console.log(
  `KV cache bench: ${numSeqs * BLOCKS_PER_SEQ} blocks of ${BLOCK_SIZE} tokens, ${numSeqs} prompts of ${BLOCKS_PER_SEQ} blocks` +
    (gc ? '' : ' (memory: run with node --expose-gc --import tsx)'),
);
const rows = [bench('lru', 0), bench('fifo', 0), bench('lfu', 0), bench('lru', numSeqs * BLOCKS_PER_SEQ)];
const header = ['policy', 'insert', 'lookup', 'hit', 'evict', 'copies', 'bytes/block', 'host bytes/block'];
const table = rows.map((r) => [
  r.config,
  fmtRate(r.insertPerS),
  fmtRate(r.lookupPerS),
  fmtRate(r.hitPerS),
  fmtRate(r.evictPerS),
  fmtRate(r.copiesPerS),
  fmtBytes(r.bytesPerBlock),
  fmtBytes(r.hostBytesPerBlock),
]);
const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c]!.length)));
for (const row of [header, ...table]) console.log(row.map((cell, c) => cell.padStart(widths[c]!)).join('  '));
