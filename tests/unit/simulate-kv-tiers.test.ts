/**
 * `simulate` with KV tiers below the GPU: multi-turn sessions that overflow a small GPU cache
 * between turns find more of their conversation in a host tier, and more again with a disk tier
 * below it; the report splits the hits by tier only when there is a disk tier, so that every report
 * without one stays what it was.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { formatReport } from '../../src/simulate/report.js';
import { runSimulation } from '../../src/simulate/simulate.js';
import type { WorkloadOptions } from '../../src/simulate/workload.js';

const workload: WorkloadOptions = {
  concurrency: 8,
  requests: 96,
  inputTokens: 500,
  outputTokens: 50,
  sharedPrefixTokens: 0,
  turns: 4,
  thinkTimeMs: 5000,
};
const run = (tiers: Record<string, string>) =>
  runSimulation(
    loadConfig({}, { gpu: 'h100-sxm', precision: 'fp8', tp: '1', kvCacheBlocks: '300', ...tiers }),
    workload,
  );

describe('simulate with host and disk tiers', () => {
  const gpuOnly = run({});
  const host = run({ kvHostCacheBlocks: '300' });
  const disk = run({ kvHostCacheBlocks: '300', kvDiskCacheBlocks: '3000' });

  it('hits more with each tier, and answers sooner', () => {
    expect(host.prefix_cache_hit_rate).toBeGreaterThan(gpuOnly.prefix_cache_hit_rate + 0.1);
    expect(disk.prefix_cache_hit_rate).toBeGreaterThan(host.prefix_cache_hit_rate + 0.1);
    expect(host.ttft_ms.mean).toBeLessThan(gpuOnly.ttft_ms.mean);
    expect(disk.ttft_ms.mean).toBeLessThan(host.ttft_ms.mean);
  });

  it('splits the hits by tier with a disk tier only, the parts adding up to the cached tokens', () => {
    expect(gpuOnly).not.toHaveProperty('prefix_cache_hit_tokens_by_tier');
    expect(host).not.toHaveProperty('prefix_cache_hit_tokens_by_tier');
    const t = disk.prefix_cache_hit_tokens_by_tier!;
    expect(Math.min(t.gpu, t.host, t.disk)).toBeGreaterThan(0);
    // They are the cached tokens the requests were told of (mean rounded to 0.1 token).
    const told = disk.cached_tokens_mean * disk.requests;
    expect(Math.abs(t.gpu + t.host + t.disk - told)).toBeLessThanOrEqual(0.05 * disk.requests);
    expect(disk.preemptions).toBe(0);
    expect(formatReport(disk)).toMatch(
      /^hits by tier {6}GPU [\d.]+ %, host [\d.]+ %, disk [\d.]+ % {2}\(tokens \d+ \/ \d+ \/ \d+\)$/m,
    );
    expect(formatReport(host)).not.toContain('hits by tier');
  });

  it('rejects an unknown drive, naming the setting', () => {
    expect(() => run({ kvDisk: 'floppy' })).toThrow(
      /NIMSIM_KV_DISK=floppy: unknown NVMe drive; allowed: micron-9550, kioxia-cm6, micron-9200/,
    );
  });
});
