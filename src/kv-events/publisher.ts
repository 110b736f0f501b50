/**
 * Publishes the engine's KV events over ZeroMQ exactly as vLLM's ZmqEventPublisher does
 * (vllm/distributed/kv_events.py), so a router built for vLLM (Dynamo's KV router, llm-d's
 * kv-cache indexer) can subscribe to nimsim unchanged:
 *
 * - a PUB socket sends each batch as three frames `[topic, seq, payload]`: the topic bytes, the
 *   batch's sequence number (8 bytes, big-endian, from 0) and its msgpack (wire-format.ts);
 * - it binds a wildcard or local endpoint and connects to any other (endpoint.ts), the port offset
 *   by the data-parallel rank, so N replicas publish on N consecutive ports;
 * - an optional ROUTER socket (always bound, offset the same way) answers a replay request
 *   `[identity, "", start seq (8 bytes big-endian)]` with `[identity, "", seq, payload]` for every
 *   buffered batch from that seq on, then the end marker `[identity, "", -1 (8 bytes), ""]`.
 *
 * The engine never waits: a batch is encoded and numbered when the engine hands it over, kept in
 * the replay buffer, and queued for the socket; zeromq sends are asynchronous, so the queue is
 * bounded (the oldest is dropped and counted when full, like vLLM's bounded queue, and can still be
 * replayed) and the PUB socket's high-water mark drops for subscribers that do not keep up, as
 * ZeroMQ PUB sockets do.
 */
import { Publisher, Router } from 'zeromq';
import type { EngineObserver } from '../engine/engine.js';
import type { KvEventBatch } from '../engine/kv-events.js';
import { BoundedQueue } from './bounded-queue.js';
import { bindsEndpoint, offsetEndpointPort } from './endpoint.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { ReplayBuffer } from './replay-buffer.js';
import { encodeKvEventBatch, type KvEventFormat } from './wire-format.js';

/** vLLM's ZmqEventPublisher defaults (buffer_steps, hwm, max_queue_size). */
export const DEFAULT_BUFFER_STEPS = 10_000;
export const DEFAULT_HWM = 100_000;
export const DEFAULT_MAX_QUEUE = 100_000;

/** vLLM's END_SEQ: -1 as 8 signed big-endian bytes, the last frame of a replay. */
const END_SEQ = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** How long a replay reply may wait for a slow requester before it is abandoned. */
const REPLAY_SEND_TIMEOUT_MS = 5_000;

export interface KvEventPublisherOptions {
  /** PUB endpoint before the rank's offset, e.g. tcp://*:5557 (bind) or tcp://collector:5557 (connect). */
  readonly endpoint: string;
  /** ROUTER endpoint for replays, before the rank's offset; none when absent. */
  readonly replayEndpoint?: string | undefined;
  /** Topic frame (vLLM's `topic`, default ""; nimsim's setting defaults to "kv-events"). */
  readonly topic: string;
  /** Data-parallel rank: the replica's index (0 for one engine); offsets the ports, fills the batch. */
  readonly rank: number;
  readonly format: KvEventFormat;
  /** Wall-clock seconds of an engine time (ms): a batch's `ts`. */
  readonly wallSeconds: (atMs: number) => number;
  readonly bufferSteps?: number;
  readonly hwm?: number;
  /** Most batches waiting for the socket; beyond it the oldest is dropped. */
  readonly maxQueue?: number;
  /** Send or replay failures (logged by the caller); the publisher goes on. */
  readonly onError?: (err: Error) => void;
}

export interface KvEventPublisherStats {
  /** Batches numbered so far (the next batch's seq). */
  readonly batches: number;
  /** Batches handed to the PUB socket. */
  readonly sent: number;
  /** Batches dropped from a full queue (still in the replay buffer while it holds them). */
  readonly dropped: number;
  /** Batches waiting for the socket. */
  readonly queued: number;
  readonly replays: number;
}

export interface KvEventPublisher {
  /** The PUB endpoint in use (after the rank's offset). */
  readonly endpoint: string;
  readonly replayEndpoint: string | undefined;
  /** Subscribe it to the engine's observer hub: it listens for KV events while open. */
  readonly observer: EngineObserver;
  /** Resolves once the sockets are bound or connecting; rejects when a bind fails. */
  readonly ready: Promise<void>;
  publish(batch: KvEventBatch): void;
  stats(): KvEventPublisherStats;
  /** Stops listening, sends what is queued (up to `flushMs`), closes both sockets. */
  close(flushMs?: number): Promise<void>;
}

export function createKvEventPublisher(opts: KvEventPublisherOptions): KvEventPublisher {
  const endpoint = offsetEndpointPort(opts.endpoint, opts.rank);
  const replayEndpoint =
    opts.replayEndpoint === undefined ? undefined : offsetEndpointPort(opts.replayEndpoint, opts.rank);
  const hwm = opts.hwm ?? DEFAULT_HWM;
  const maxQueue = opts.maxQueue ?? DEFAULT_MAX_QUEUE;
  const topic = Buffer.from(opts.topic, 'utf8');
  const onError = opts.onError ?? (() => undefined);
  const buffer = new ReplayBuffer(opts.bufferSteps ?? DEFAULT_BUFFER_STEPS);
  const writer = new MsgpackWriter();

  // linger 0: closing drops what the kernel has not taken, as vLLM's close(linger=0).
  const pub = new Publisher({ sendHighWaterMark: hwm, linger: 0 });
  const router = replayEndpoint
    ? new Router({ mandatory: true, sendHighWaterMark: hwm, sendTimeout: REPLAY_SEND_TIMEOUT_MS, linger: 0 })
    : undefined;

  /** [seq frame, payload] of the batches waiting for the PUB socket. */
  const queue = new BoundedQueue<readonly [Buffer, Buffer]>(maxQueue);
  let nextSeq = 0;
  let sent = 0;
  let dropped = 0;
  let replays = 0;
  let open = true;
  let pumping: Promise<void> | undefined;

  const ready = (async () => {
    if (bindsEndpoint(endpoint)) await pub.bind(endpoint);
    else pub.connect(endpoint);
    if (router && replayEndpoint) await router.bind(replayEndpoint);
  })();
  // A failed bind is the caller's to report, through `ready`; not an unhandled rejection here.
  ready.catch(() => undefined);
  if (router) void serveReplays(router);

  async function pump(): Promise<void> {
    try {
      await ready;
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [seqFrame, payload] = next;
        try {
          await pub.send([topic, seqFrame, payload]);
          sent++;
        } catch (err) {
          if (pub.closed) return;
          onError(err as Error);
        }
      }
    } catch {
      // The bind failed (reported by `ready`): nothing can be sent.
    } finally {
      pumping = undefined;
    }
  }

  async function serveReplays(sock: Router): Promise<void> {
    try {
      await ready;
    } catch {
      return;
    }
    while (!sock.closed) {
      let frames: Buffer[];
      try {
        frames = await sock.receive();
      } catch (err) {
        if (sock.closed) return;
        onError(err as Error);
        continue;
      }
      // vLLM answers only [identity, empty delimiter, start seq] (a REQ or DEALER client).
      if (frames.length !== 3 || frames[2]!.length !== 8) continue;
      const [id, , startFrame] = frames as [Buffer, Buffer, Buffer];
      const start = Number(startFrame.readBigUInt64BE(0));
      replays++;
      try {
        for (const item of buffer.since(start)) await sock.send([id, '', seqBytes(item.seq), item.payload]);
        await sock.send([id, '', END_SEQ, '']);
      } catch (err) {
        if (sock.closed) return;
        onError(err as Error);
      }
    }
  }

  function publish(batch: KvEventBatch): void {
    if (!open || batch.events.length === 0) return;
    const seq = nextSeq++;
    const payload = encodeKvEventBatch(batch, opts.wallSeconds(batch.atMs), opts.rank, opts.format, writer);
    buffer.push(seq, payload);
    if (queue.push([seqBytes(seq), payload])) dropped++;
    pumping ??= pump();
  }

  return {
    endpoint,
    replayEndpoint,
    observer: {
      observesKvEvents: () => open,
      onKvEvents: publish,
    },
    ready,
    publish,
    stats: () => ({ batches: nextSeq, sent, dropped, queued: queue.size, replays }),
    async close(flushMs = 1_000) {
      if (!open && pub.closed) return;
      open = false;
      if (pumping) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([pumping, new Promise<void>((resolve) => (timer = setTimeout(resolve, flushMs)))]);
        clearTimeout(timer);
      }
      // Unbind first and wait for it: close() alone lets libzmq release the port later, in its I/O
      // thread, so a server restarted at once could find its own port still taken. A wildcard
      // endpoint unbinds by the address it resolved to (ZMQ_LAST_ENDPOINT).
      const unbind = async (socket: Publisher | Router, bound: boolean) => {
        if (!bound || socket.closed) return;
        await socket.unbind(socket.lastEndpoint ?? '').catch(() => undefined);
      };
      await ready.catch(() => undefined);
      await Promise.all([unbind(pub, bindsEndpoint(endpoint)), router && unbind(router, true)]);
      pub.close();
      router?.close();
    },
  };
}

function seqBytes(seq: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(seq), 0);
  return b;
}
