/**
 * Disaggregated prefill and decode, as NVIDIA Dynamo serves them (docs/disaggregation.md): two
 * pools of replicas on one clock behind one Fleet, so the HTTP server and `simulate` drive it as
 * they drive any fleet.
 *
 * A request reserves a decode replica when it arrives (the decode pool's router: by default the
 * KV-aware cost, so a replica already holding the prompt's blocks is preferred) and, unless
 * conditional disaggregation keeps it there (conditional.ts), goes to a prefill replica chosen by
 * the prefill pool's router. The prefill replica computes the prompt and one token (Dynamo sends
 * vLLM's prefill worker the request with max_tokens 1 and do_remote_decode); its blocks then stay
 * in its prefix cache. The request then reaches its decode replica with the prompt's full blocks
 * marked remote: the replica looks its own cache up, allocates the rest and pulls them over the
 * link after the prefill has finished (vLLM's NixlConnector: the decode side reads once the
 * prefill's kv_transfer_params arrive, "prefill runs synchronously; decode waits for prefill to
 * complete", Dynamo's disaggregated-serving design doc), then computes the last prompt token,
 * whose logits give the first output token, as vLLM's scheduler recomputes it, and decodes.
 *
 * The caller sees one request: the prefill's `scheduled` event, then the decode replica's tokens,
 * then one `finished` whose timings run from the arrival at the fleet (so TTFT includes the prefill
 * queue, the prefill, the transfer and the decode replica's first step) and whose cached tokens
 * are the prefill replica's prefix hit. Replica indices are global: the prefill replicas first
 * (0 … P−1), then the decode replicas (P … P+D−1); `onRouted` names the decode replica.
 */
import type { Clock } from '../../engine/clock.js';
import type { Engine, EngineObserver } from '../../engine/engine.js';
import { EngineError } from '../../engine/errors.js';
import type { EventListener } from '../../engine/sequence.js';
import type { EngineRequest, RequestTimings } from '../../engine/types.js';
import {
  createFleet,
  type Fleet,
  type FleetOptions,
  type FleetSubmitOptions,
  type PoolFleet,
  type Replica,
} from '../fleet.js';
import { mergeTopPrefixes, sumStats } from '../fleet-stats.js';
import { prefillsRemotely, remoteTokensOf } from './conditional.js';
import { DisaggStats } from './disagg-stats.js';

export type Role = 'prefill' | 'decode';

export interface DisaggFleetOptions extends Pick<
  FleetOptions,
  'router' | 'kvRouter' | 'seed' | 'blockSize' | 'blockKeys' | 'observer'
> {
  readonly prefillReplicas: number;
  readonly decodeReplicas: number;
  /** Builds replica `index` (global) of `role` with the observer the fleet gives it. */
  readonly createReplica: (index: number, role: Role, observer: EngineObserver) => Engine;
  readonly clock: Clock;
  /** Dynamo's max_local_prefill_length (conditional.ts). */
  readonly maxLocalPrefillLength: number;
  /** Bytes landing in a decode replica per transferred token, over all its GPUs. */
  readonly transferBytesPerToken: number;
  /** Keep every transfer's and queue wait's figures (simulate's report). */
  readonly keepSamples?: boolean;
}

export interface DisaggFleet extends Fleet {
  readonly prefillReplicas: number;
  readonly decodeReplicas: number;
  /** Each replica's role, by global index. */
  readonly roles: readonly Role[];
  readonly disagg: DisaggStats;
}

export function createDisaggFleet(opts: DisaggFleetOptions): DisaggFleet {
  const P = opts.prefillReplicas;
  const D = opts.decodeReplicas;
  const bs = opts.blockSize;
  const roles: Role[] = [...Array<Role>(P).fill('prefill'), ...Array<Role>(D).fill('decode')];
  const stats = new DisaggStats(P + D, opts.keepSamples ?? false);
  /** A pool's replica builder: global index, and each step's duration counted as busy time. */
  const poolOptions = (role: Role, size: number, offset: number): FleetOptions => ({
    size,
    router: opts.router,
    kvRouter: opts.kvRouter,
    seed: opts.seed,
    blockSize: bs,
    blockKeys: opts.blockKeys,
    observer: opts.observer,
    createReplica: (i, observer) =>
      opts.createReplica(offset + i, role, {
        ...observer,
        onStep(step) {
          stats.busyMs[offset + i] = stats.busyMs[offset + i]! + step.durationMs;
          observer.onStep?.(step);
        },
      }),
  });
  const prefillPool = createFleet(poolOptions('prefill', P, 0));
  const decodePool = createFleet(poolOptions('decode', D, P));
  const pools: readonly PoolFleet[] = [prefillPool, decodePool];
  const replicas: Replica[] = [
    ...prefillPool.replicas,
    ...decodePool.replicas.map((r) => withIndex(r, P + r.index)),
  ];

  const submit = (
    req: EngineRequest,
    listener: EventListener,
    signal?: AbortSignal,
    options?: FleetSubmitOptions,
  ): (() => void) => {
    const pinned = options?.replica;
    const promptTokens = req.promptTokenIds.length;
    const remoteTokens = remoteTokensOf(promptTokens, bs);
    let remote = false;
    const reservation = decodePool.reserve(req, {
      replica: pinned !== undefined && pinned >= P ? pinned - P : undefined,
      promptBlockKeys: options?.promptBlockKeys,
      prefillTokens(overlapBlocks) {
        remote = prefillsRemotely(req, overlapBlocks * bs, opts.maxLocalPrefillLength, bs);
        // A remote prefill leaves the decode replica the tokens after the full blocks to compute.
        return remote
          ? promptTokens - Math.min(remoteTokens, promptTokens - 1)
          : Math.max(0, promptTokens - overlapBlocks * bs);
      },
    });
    const decodeReplica = reservation.replica;
    const arrivalMs = opts.clock.now();
    if (!remote) {
      options?.onRouted?.(P + decodeReplica);
      const abort = reservation.submit(
        req,
        (ev) => {
          if (ev.type === 'scheduled') stats.decodeQueued(ev.atMs - arrivalMs);
          listener(ev);
        },
        signal,
        options,
      );
      stats.localPrefills++;
      return abort;
    }
    // The decode replica's queue bounds new requests, remote ones included: refuse now rather
    // than after their prefill.
    if (decodePool.replicas[decodeReplica]!.waitingRoom() === 0) {
      reservation.cancel();
      throw new EngineError('queue_full', 'The decode waiting queue is full. Retry later.', 1);
    }
    options?.onRouted?.(P + decodeReplica);

    let prefillScheduledMs: number | undefined;
    let prefillCachedTokens = 0;
    let decodeAbort: (() => void) | undefined;
    const timingsOf = (t: RequestTimings): RequestTimings => ({
      arrivalMs,
      scheduledMs: prefillScheduledMs ?? t.scheduledMs,
      firstTokenMs: t.firstTokenMs,
      finishedMs: t.finishedMs,
    });

    const decodeListener = (submittedMs: number): EventListener => {
      return (ev) => {
        switch (ev.type) {
          case 'scheduled':
            stats.decodeQueued(ev.atMs - submittedMs);
            if (ev.kvTransfer) {
              const { blocks, doneMs } = ev.kvTransfer;
              stats.transferStarted({
                ms: doneMs - ev.atMs,
                bytes: blocks * bs * opts.transferBytesPerToken,
                blocks,
              });
              opts.clock.schedule(doneMs, () => stats.transferLanded());
            }
            return;
          case 'finished':
            listener({
              ...ev,
              timings: timingsOf(ev.timings),
              usage: { ...ev.usage, cachedTokens: prefillCachedTokens },
            });
            return;
          default:
            listener(ev);
        }
      };
    };

    const prefillListener: EventListener = (ev) => {
      switch (ev.type) {
        case 'scheduled':
          if (prefillScheduledMs !== undefined) return; // re-admitted after a preemption
          prefillScheduledMs = ev.atMs;
          prefillCachedTokens = ev.cachedTokens;
          stats.prefillQueued(ev.atMs - arrivalMs);
          listener(ev);
          return;
        case 'tokens':
          return; // the prefill's own token is not the client's: the decode replica makes it again
        case 'failed':
          listener(ev);
          return;
        case 'finished':
          if (ev.reason === 'abort') {
            reservation.cancel();
            listener({ ...ev, timings: timingsOf(ev.timings) });
            return;
          }
          stats.remotePrefills++;
          try {
            decodeAbort = reservation.submit(
              { ...req, remotePrefillTokens: remoteTokens },
              decodeListener(ev.timings.finishedMs),
              signal,
              { tokenEvents: options?.tokenEvents, pastWaitingBound: true },
            );
          } catch (err) {
            // The decode replica shut down meanwhile (a drain past its timeout): say so in-band.
            listener({ type: 'failed', error: err as Error });
            listener({ ...ev, reason: 'abort', timings: timingsOf(ev.timings) });
          }
      }
    };
    // Dynamo's prefill request: the same prompt, one token to produce.
    const prefillRequest: EngineRequest = {
      ...req,
      outputTokenIds: req.outputTokenIds.slice(0, 1),
      finishReason: 'length',
    };
    let prefillAbort: () => void;
    try {
      prefillAbort = prefillPool.submit(prefillRequest, prefillListener, signal, {
        tokenEvents: false,
        promptBlockKeys: options?.promptBlockKeys,
      });
    } catch (err) {
      reservation.cancel();
      throw err;
    }
    return () => (decodeAbort ?? prefillAbort)();
  };

  return {
    router: opts.router,
    replicas,
    prefillReplicas: P,
    decodeReplicas: D,
    roles,
    disagg: stats,
    submit,
    stats: () => sumStats(replicas.map((r) => r.stats())),
    // A request takes a place in a decode queue when it arrives, and one in a prefill queue
    // unless it is prefilled locally.
    waitingRoom: () => Math.min(prefillPool.waitingRoom(), decodePool.waitingRoom()),
    resetPrefixCache() {
      for (const pool of pools) pool.resetPrefixCache();
    },
    topPrefixes: (n) =>
      mergeTopPrefixes(
        pools.map((p) => p.topPrefixes(n)),
        n,
      ),
    cachedBlockKeys() {
      const all = pools.map((p) => p.cachedBlockKeys());
      return { gpu: all.flatMap((k) => k.gpu), host: all.flatMap((k) => k.host) };
    },
    // Prefill first: a request whose prefill finishes during the drain still reaches its decode replica.
    drain: async (timeoutMs) => {
      await prefillPool.drain(timeoutMs);
      await decodePool.drain(timeoutMs);
    },
    routing() {
      const [a, b] = pools.map((p) => p.routing());
      return {
        predictedCachedTokens: a!.predictedCachedTokens + b!.predictedCachedTokens,
        actualCachedTokens: a!.actualCachedTokens + b!.actualCachedTokens,
      };
    },
  };
}

/** `replica` under another index (a decode replica's global one). */
function withIndex(replica: Replica, index: number): Replica {
  return Object.create(replica, { index: { value: index, enumerable: true } }) as Replica;
}

/** Whether `fleet` is disaggregated. */
export function isDisaggFleet(fleet: Fleet | undefined): fleet is DisaggFleet {
  return (fleet as Partial<DisaggFleet> | undefined)?.roles !== undefined;
}
