import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type RawSettings } from '../../src/config/config.js';
import { createVirtualClock } from '../../src/engine/clock.js';
import type { EngineEvent, EngineRequest } from '../../src/engine/types.js';
import type { DisaggFleet } from '../../src/fleet/disagg/disagg-fleet.js';
import type { TransferRecord } from '../../src/fleet/disagg/disagg-stats.js';
import { createRuntime } from '../../src/runtime.js';

type Finished = Extract<EngineEvent, { type: 'finished' }>;

/** Llama 3.1 8B, FP8 KV: 2 (K, V) × 32 layers × 8 KV heads × 128 head dim × 1 byte per token, TP 1. */
const KV_BYTES_PER_TOKEN = 65_536;

/** One prefill and one decode replica on a virtual clock, and a way to run one request to its end. */
function disaggregated(flags: RawSettings = {}) {
  const config = loadConfig({}, { prefillReplicas: '1', decodeReplicas: '1', precision: 'fp8', ...flags });
  const clock = createVirtualClock();
  const runtime = createRuntime(config, { clock, defaultJitter: 0, keepSamples: true });
  const fleet = runtime.fleet as DisaggFleet;
  const transfers: TransferRecord[] = [];
  fleet.disagg.onTransfer((t) => transfers.push(t));
  let next = 0;
  const run = (prompt: readonly number[]): { done: Finished; events: EngineEvent[]; replica: number } => {
    const events: EngineEvent[] = [];
    let replica = -1;
    const req: EngineRequest = {
      id: `r${next++}`,
      promptTokenIds: prompt,
      outputTokenIds: [11, 12, 13, 14],
      finishReason: 'length',
      modelName: 'm',
    };
    fleet.submit(req, (ev) => events.push(ev), undefined, { onRouted: (r) => (replica = r) });
    clock.runUntilIdle();
    const done = events.find((e): e is Finished => e.type === 'finished')!;
    return { done, events, replica };
  };
  return { fleet, transfers, run, clock };
}

const tokens = (n: number, from = 1000) => Array.from({ length: n }, (_, i) => from + i);
const ttftOf = (f: Finished) => f.timings.firstTokenMs - f.timings.arrivalMs;

describe('disaggregated prefill and decode', () => {
  it('moves a prompt’s full blocks in bytes ÷ link bandwidth + latency', () => {
    const { transfers, run, fleet } = disaggregated({ kvTransferLink: 'ib-ndr' });
    // 2,050 tokens: 128 full blocks of 16 move; the 2 tokens after them are computed by the decode replica.
    const { done, replica } = run(tokens(2050));
    expect(transfers).toHaveLength(1);
    expect(transfers[0]!.blocks).toBe(128);
    expect(transfers[0]!.bytes).toBe(2048 * KV_BYTES_PER_TOKEN); // 134,217,728 bytes
    // InfiniBand NDR: 400 Gb/s = 50e9 bytes/s per GPU, 5 µs.
    expect(transfers[0]!.ms).toBeCloseTo((134_217_728 / 50e9) * 1000 + 0.005, 9);
    expect(fleet.disagg.remotePrefills).toBe(1);
    expect(fleet.disagg.localPrefills).toBe(0);
    // The client sees one request, answered by the decode replica (global index 1).
    expect(replica).toBe(1);
    expect(done.usage).toEqual({ promptTokens: 2050, completionTokens: 4, cachedTokens: 0 });
  });

  it('shortens the transfer part of TTFT in proportion to a faster link', () => {
    const ndr = disaggregated({ kvTransferLink: 'ib-ndr' }).run(tokens(4096)).done;
    const xdr = disaggregated({ kvTransferLink: 'ib-xdr' }).run(tokens(4096)).done;
    const bytes = 4096 * KV_BYTES_PER_TOKEN;
    // Same prefill, same decode step, same latency: TTFT differs by bytes/50 GB/s − bytes/100 GB/s.
    expect(ttftOf(ndr) - ttftOf(xdr)).toBeCloseTo((bytes / 50e9 - bytes / 100e9) * 1000, 9);
    const roce = disaggregated({ kvTransferLink: 'roce-400g' }).run(tokens(4096)).done;
    // RoCE has NDR's bandwidth and 5 µs more latency.
    expect(ttftOf(roce) - ttftOf(ndr)).toBeCloseTo(0.005, 9);
  });

  it('prefills a short prompt on its decode replica, and a long one remotely', () => {
    const { fleet, transfers, run } = disaggregated();
    run(tokens(1000)); // 1,000 uncached tokens: not more than max_local_prefill_length (1,000)
    expect(fleet.disagg.localPrefills).toBe(1);
    expect(transfers).toHaveLength(0);
    run(tokens(1001, 50_000));
    expect(fleet.disagg.remotePrefills).toBe(1);
    expect(transfers).toHaveLength(1);
  });

  it('prefills locally a prompt mostly cached on its decode replica', () => {
    const { fleet, run } = disaggregated();
    const history = tokens(3000);
    run(history); // remote: the decode replica now holds its full blocks
    expect(fleet.disagg.remotePrefills).toBe(1);
    // The next turn adds 900 tokens: 3,900 − 2,992 cached = 908 to compute, within 1,000.
    const next = run([...history, ...tokens(900, 90_000)]).done;
    expect(fleet.disagg.localPrefills).toBe(1);
    expect(next.usage.cachedTokens).toBe(2992);
  });

  it('moves only the blocks the decode replica does not already hold', () => {
    const { transfers, run } = disaggregated({ maxLocalPrefillLength: '0' });
    const history = tokens(2048);
    run(history);
    run([...history, ...tokens(2048, 90_000)]);
    expect(transfers.map((t) => t.blocks)).toEqual([128, 128]);
    expect(transfers[1]!.bytes).toBe(2048 * KV_BYTES_PER_TOKEN);
  });

  it('keeps the prefill replica’s blocks as its prefix cache', () => {
    const { fleet, run } = disaggregated({ maxLocalPrefillLength: '0' });
    const history = tokens(2048);
    run(history);
    run([...history, ...tokens(2048, 90_000)]);
    const prefill = fleet.replicas[0]!.stats().kvCache;
    // The second prompt found all 128 blocks of the first cached there, released but kept.
    expect(prefill.hitTokens).toBe(2048);
    expect(prefill.gpu.inUse).toBe(0);
    expect(fleet.replicas[1]!.stats().kvCache.gpu.inUse).toBe(0);
  });

  it('frees the decode replica’s blocks when a request is aborted during its transfer', () => {
    const { fleet, clock } = disaggregated({ kvTransferLink: 'roce-400g' });
    const controller = new AbortController();
    const events: EngineEvent[] = [];
    let blocksWhileMoving = 0;
    fleet.disagg.onTransfer((t) => {
      blocksWhileMoving = fleet.replicas[1]!.stats().kvCache.gpu.inUse;
      clock.schedule(clock.now() + t.ms / 2, () => controller.abort());
    });
    const req: EngineRequest = {
      id: 'a',
      promptTokenIds: tokens(4096),
      outputTokenIds: [1, 2, 3],
      finishReason: 'length',
      modelName: 'm',
    };
    fleet.submit(req, (ev) => events.push(ev), controller.signal);
    clock.runUntilIdle();
    expect(blocksWhileMoving).toBe(256); // the whole prompt's blocks, allocated before the pull
    expect(events.filter((e) => e.type === 'tokens')).toHaveLength(0);
    expect(events.at(-1)).toMatchObject({ type: 'finished', reason: 'abort' });
    expect(fleet.replicas[1]!.stats()).toMatchObject({ running: 0, waiting: 0, kvBlocksInUse: 0 });
    expect(fleet.disagg.transfersInFlight).toBe(0);
  });

  it('refuses --replicas with the prefill and decode replicas, and one pool without the other', () => {
    expect(() => loadConfig({}, { prefillReplicas: '1', decodeReplicas: '1', replicas: '2' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ NIMSIM_REPLICAS: '2' }, { prefillReplicas: '1', decodeReplicas: '1' })).toThrow(
      /^NIMSIM_REPLICAS=2: not with --prefill-replicas and --decode-replicas/,
    );
    expect(() => loadConfig({}, { prefillReplicas: '2' })).toThrow(
      /^--prefill-replicas=2: needs --decode-replicas above 0/,
    );
    expect(() => loadConfig({ NIMSIM_DECODE_TP: '2' })).toThrow(
      /^NIMSIM_DECODE_TP=2: needs --prefill-replicas and --decode-replicas above 0/,
    );
  });
});
