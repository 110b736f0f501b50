/**
 * What a prefix hit in each tier costs the request that finds it, on the virtual clock with the
 * roofline of Llama 3.1 8B FP8 on one H100 (64 KiB of KV per token): a GPU hit costs nothing, a host
 * hit its bytes over the 64 GB/s PCIe Gen5 x16 host link, a disk hit its bytes at the drive's
 * 14 GB/s (the Micron 9550's sequential read, slower than the host link it crosses) plus one
 * 60 µs read latency, and all of them less than recomputing the prefix (docs/kv-tiers.md).
 */
import { describe, expect, it } from 'vitest';
import { createRooflinePerfModel } from '../../src/engine/roofline.js';
import type { EngineRequest, RequestUsage } from '../../src/engine/types.js';
import { deploymentUnderTest, engineUnderTest } from '../helpers/engine-under-test.js';

const deployment = deploymentUnderTest({ frontend: 'none' });
const perf = createRooflinePerfModel(deployment.roofline);

/** 513 full blocks: the lookup may serve 512 of them (one token is always computed). */
const PROMPT = 8208;
const CACHED = 8192;
const range = (n: number, start: number) => Array.from({ length: n }, (_, i) => start + i);

let nextId = 0;
const request = (prompt: number[]): EngineRequest => ({
  id: `r${nextId++}`,
  promptTokenIds: prompt,
  outputTokenIds: [1, 2],
  finishReason: 'length',
  modelName: 'm',
});

/**
 * A prompt, then an unrelated one of the same length that evicts all of its blocks from a GPU
 * cache of 514 blocks (when `evict`), then the first prompt again: its TTFT and usage, each request
 * arriving on an idle engine.
 */
function secondVisit(tiers: { hostBlocks: number; diskBlocks: number }, evict = true) {
  const { clock, engine } = engineUnderTest({
    perf,
    kvCache: { gpuBlocks: 514, ...tiers },
    maxNumSeqs: 8,
    maxNumBatchedTokens: 16_384,
    maxWaiting: 8,
  });
  const prompt = range(PROMPT, 0);
  const prompts = evict ? [prompt, range(PROMPT, 100_000), prompt] : [prompt, prompt];
  let last: { ttftMs: number; usage: RequestUsage } | undefined;
  for (const p of prompts) {
    engine.submit(
      request(p),
      (ev) => {
        if (ev.type === 'finished')
          last = { ttftMs: ev.timings.firstTokenMs - ev.timings.arrivalMs, usage: ev.usage };
      },
      undefined,
      { tokenEvents: false },
    );
    clock.runUntilIdle();
  }
  return last!;
}

describe('the transfer time of a lower-tier hit, in TTFT', () => {
  const bytes = CACHED * deployment.kvBytesPerToken; // 8192 × 65,536 = 536,870,912 bytes
  const gpu = secondVisit({ hostBlocks: 0, diskBlocks: 0 }, false);
  const host = secondVisit({ hostBlocks: 2000, diskBlocks: 0 });
  const disk = secondVisit({ hostBlocks: 0, diskBlocks: 2000 });
  const recompute = secondVisit({ hostBlocks: 0, diskBlocks: 0 });

  it('finds the whole prefix in the tier it was evicted to, and says so in usage', () => {
    expect(deployment.kvBytesPerToken).toBe(65_536);
    expect([gpu, host, disk, recompute].map((r) => r.usage.cachedTokens)).toEqual([
      CACHED,
      CACHED,
      CACHED,
      0,
    ]);
    expect(host.usage.cachedTokensByTier).toEqual({ host: CACHED, disk: 0 });
    expect(disk.usage.cachedTokensByTier).toEqual({ host: 0, disk: CACHED });
    // No tier below the GPU: usage is what it always was.
    expect(gpu.usage).not.toHaveProperty('cachedTokensByTier');
  });

  it('costs a host hit its bytes over the 64 GB/s host link: 8.388608 ms more than a GPU hit', () => {
    expect(bytes / 64e9).toBe(0.008388608);
    expect(host.ttftMs - gpu.ttftMs).toBeCloseTo(8.388608, 9);
  });

  it('costs a disk hit its bytes at the drive’s 14 GB/s plus a 60 µs read: 38.407922 ms more than a GPU hit', () => {
    expect(deployment.kvDisk.seqReadBytesPerS).toBe(14e9);
    expect(deployment.kvDisk.readLatencyMs).toBe(0.06);
    expect(disk.ttftMs - gpu.ttftMs).toBeCloseTo((bytes / 14e9) * 1000 + 0.06, 9);
    expect(disk.ttftMs - gpu.ttftMs).toBeCloseTo(38.407922, 6);
    expect(disk.ttftMs).toBeGreaterThan(host.ttftMs);
  });

  it('is cheaper than recomputing an 8k-token prefix, from any tier', () => {
    expect(recompute.ttftMs).toBeGreaterThan(disk.ttftMs);
    // Recomputing 8192 tokens on an H100 in FP8 takes several times the disk read.
    expect(recompute.ttftMs - gpu.ttftMs).toBeGreaterThan(2 * (disk.ttftMs - gpu.ttftMs));
  });

  it('reads a slower drive slower: a PCIe Gen3 Micron 9200 at 3.5 GB/s and 92 µs', () => {
    const slow = createRooflinePerfModel(
      deploymentUnderTest({ frontend: 'none', kvDisk: 'micron-9200' }).roofline,
    );
    const work = {
      decodeSeqs: 0,
      decodeContextTokens: 0,
      prefillChunks: [{ tokens: 16, contextTokens: CACHED }],
    };
    const loaded = (m: typeof perf) =>
      m.stepMs({ ...work, hostLoadTokens: 0, diskLoadTokens: CACHED, diskLoadRequests: 1 }) -
      m.stepMs({ ...work, hostLoadTokens: 0 });
    expect(loaded(slow)).toBeCloseTo((bytes / 3.5e9) * 1000 + 0.092, 9);
    expect(loaded(perf)).toBeCloseTo((bytes / 14e9) * 1000 + 0.06, 9);
  });
});
