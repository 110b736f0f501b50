/**
 * The KV-event publisher against real ZeroMQ sockets on 127.0.0.1: vLLM's three-frame messages,
 * its msgpack batch in both encodings, bind/connect and the per-rank port offset, the replay
 * ROUTER with its end marker, and a bounded queue.
 */
import { decode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import { Dealer, Subscriber } from 'zeromq';
import type { KvEventBatch } from '../../src/engine/kv-events.js';
import { bindsEndpoint, endpointProblem, offsetEndpointPort } from '../../src/kv-events/endpoint.js';
import {
  createKvEventPublisher,
  type KvEventPublisher,
  type KvEventPublisherOptions,
} from '../../src/kv-events/publisher.js';
import { encodeKvEventBatch } from '../../src/kv-events/wire-format.js';
import { freePort } from '../../load-tests/lib/child-server.js';

const BATCH: KvEventBatch = {
  atMs: 1500,
  events: [
    {
      type: 'BlockStored',
      blockHashes: [7, 2 ** 40 + 3],
      parentBlockHash: null,
      tokenIds: [1, 2, 3, 4, 5, 6, 7, 8],
      blockSize: 4,
      medium: 'GPU',
    },
    {
      type: 'BlockStored',
      blockHashes: [9],
      parentBlockHash: 2 ** 40 + 3,
      tokenIds: [300, 70000, 11, 12],
      blockSize: 4,
      medium: 'GPU',
    },
    { type: 'BlockRemoved', blockHashes: [5], medium: 'GPU' },
    {
      type: 'BlockStored',
      blockHashes: [5],
      parentBlockHash: null,
      tokenIds: [],
      blockSize: 0,
      medium: 'CPU',
    },
    { type: 'BlockRemoved', blockHashes: [4], medium: 'CPU' },
    { type: 'AllBlocksCleared' },
  ],
};

describe('KV events wire format (vllm/distributed/kv_events.py, msgspec)', () => {
  it('array: [ts, [tagged arrays, trailing defaults dropped], rank]', () => {
    const bytes = encodeKvEventBatch(BATCH, 1700000000.25, 3, 'array');
    expect(decode(bytes)).toEqual([
      1700000000.25,
      [
        ['BlockStored', [7, 2 ** 40 + 3], null, [1, 2, 3, 4, 5, 6, 7, 8], 4, null, 'GPU', null],
        ['BlockStored', [9], 2 ** 40 + 3, [300, 70000, 11, 12], 4, null, 'GPU', null],
        ['BlockRemoved', [5], 'GPU'],
        ['BlockStored', [5], null, [], 0, null, 'CPU', null],
        ['BlockRemoved', [4], 'CPU'],
        ['AllBlocksCleared'],
      ],
      3,
    ]);
  });

  it('map: [ts, [tagged maps, defaulted fields only when set], rank]', () => {
    const bytes = encodeKvEventBatch(BATCH, 12, 0, 'map');
    const [ts, events, rank] = decode(bytes) as [number, unknown[], number];
    expect([ts, rank]).toEqual([12, 0]);
    expect(events).toEqual([
      {
        type: 'BlockStored',
        block_hashes: [7, 2 ** 40 + 3],
        parent_block_hash: null,
        token_ids: [1, 2, 3, 4, 5, 6, 7, 8],
        block_size: 4,
        lora_id: null,
        medium: 'GPU',
        lora_name: null,
        extra_keys: [null, null],
        group_idx: 0,
        kv_cache_spec_kind: 'full_attention',
      },
      expect.objectContaining({ type: 'BlockStored', block_hashes: [9], parent_block_hash: 2 ** 40 + 3 }),
      { type: 'BlockRemoved', block_hashes: [5], medium: 'GPU', group_idx: 0 },
      {
        type: 'BlockStored',
        block_hashes: [5],
        parent_block_hash: null,
        token_ids: [],
        block_size: 0,
        lora_id: null,
        medium: 'CPU',
        lora_name: null,
      },
      { type: 'BlockRemoved', block_hashes: [4], medium: 'CPU' },
      { type: 'AllBlocksCleared' },
    ]);
    // The tag comes first, as msgspec writes it.
    expect(Object.keys(events[0]!)[0]).toBe('type');
  });

  it('writes ts as a float64 even when it is a whole number, and hashes as msgpack unsigned ints', () => {
    const bytes = encodeKvEventBatch(
      { atMs: 0, events: [{ type: 'BlockRemoved', blockHashes: [2 ** 53 - 1], medium: 'GPU' }] },
      1700000000,
      0,
      'array',
    );
    expect(bytes[0]).toBe(0x93); // fixarray of 3
    expect(bytes[1]).toBe(0xcb); // float64
    expect(bytes.readDoubleBE(2)).toBe(1700000000);
    const hashAt = bytes.indexOf(0xcf); // uint64
    expect(hashAt).toBeGreaterThan(0);
    expect(Number(bytes.readBigUInt64BE(hashAt + 1))).toBe(2 ** 53 - 1);
  });
});

describe('KV events endpoints (vLLM ZmqEventPublisher)', () => {
  it('binds wildcard and local endpoints, connects to the others', () => {
    expect(bindsEndpoint('tcp://*:5557')).toBe(true);
    expect(bindsEndpoint('tcp://[::]:5557')).toBe(true);
    expect(bindsEndpoint('ipc:///tmp/kv')).toBe(true);
    expect(bindsEndpoint('inproc://kv')).toBe(true);
    expect(bindsEndpoint('tcp://127.0.0.1:5557')).toBe(false);
    expect(bindsEndpoint('tcp://collector.svc:5557')).toBe(false);
  });

  it('offsets the port by the data-parallel rank (inproc gets a suffix)', () => {
    expect(offsetEndpointPort('tcp://*:5557', 0)).toBe('tcp://*:5557');
    expect(offsetEndpointPort('tcp://*:5557', 3)).toBe('tcp://*:5560');
    expect(offsetEndpointPort('tcp://10.0.0.2:6000', 1)).toBe('tcp://10.0.0.2:6001');
    expect(offsetEndpointPort('inproc://kv', 2)).toBe('inproc://kv_dp2');
    expect(offsetEndpointPort('ipc:///tmp/kv', 0)).toBe('ipc:///tmp/kv');
    expect(() => offsetEndpointPort('ipc:///tmp/kv', 1)).toThrow(/tcp and inproc/);
  });

  it('names what is wrong with an endpoint', () => {
    for (const ok of [
      'tcp://*:5557',
      'tcp://127.0.0.1:1',
      'tcp://[::]:5557',
      'tcp://a-b.c:65535',
      'ipc:///x',
      'inproc://y',
    ])
      expect(endpointProblem(ok), ok).toBeUndefined();
    for (const bad of ['5557', 'tcp://host', 'tcp://*:0', 'tcp://*:70000', 'http://x:1', 'tcp://*:55 57', ''])
      expect(endpointProblem(bad), bad).toBeDefined();
  });
});

describe('KV event publisher on ZeroMQ', () => {
  const open: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const track = <T extends { close(): unknown }>(s: T): T => (open.push(s), s);
  /** A publisher binding every interface on `port`, topic `x`, rank 0; `extra` adds or overrides. */
  const bindingAt = (port: number, extra: Partial<KvEventPublisherOptions> = {}) =>
    createKvEventPublisher({
      endpoint: `tcp://*:${port}`,
      topic: 'x',
      rank: 0,
      format: 'array',
      wallSeconds: () => 0,
      ...extra,
    });

  /**
   * Publishes probes until `sub` receives one (a subscriber misses what is sent before it is
   * connected). One receive stays pending across tries: a socket allows one at a time.
   */
  async function probeUntilReceived(pub: KvEventPublisher, sub: Subscriber): Promise<Buffer[]> {
    const pending = sub.receive();
    for (let i = 0; i < 200; i++) {
      pub.publish({ atMs: 0, events: [{ type: 'AllBlocksCleared' }] });
      const got = await Promise.race([pending, new Promise<null>((r) => setTimeout(() => r(null), 50))]);
      if (got) return got;
    }
    throw new Error('the subscriber never received a probe');
  }

  /** The next message with a sequence number ≥ `fromSeq` (probes still in flight are skipped). */
  async function receiveFrom(sub: Subscriber, fromSeq: number): Promise<Buffer[]> {
    for (;;) {
      const frames = await sub.receive();
      if (Number(frames[1]!.readBigUInt64BE(0)) >= fromSeq) return frames;
    }
  }

  async function subscribe(pub: KvEventPublisher, topic: string): Promise<Subscriber> {
    const sub = track(new Subscriber({ linger: 0 }));
    sub.connect(pub.endpoint.replace('*', '127.0.0.1'));
    sub.subscribe(topic);
    await probeUntilReceived(pub, sub);
    return sub;
  }

  it('sends [topic, 8-byte big-endian seq, msgpack batch] with seq from 0, ts in wall seconds, its rank', async () => {
    const base = await freePort();
    const pub = track(
      createKvEventPublisher({
        endpoint: `tcp://*:${base - 2}`,
        topic: 'kv-events',
        rank: 2, // port offset: base
        format: 'array',
        wallSeconds: (atMs) => 1000 + atMs / 1000,
      }),
    );
    expect(pub.endpoint).toBe(`tcp://*:${base}`);
    await pub.ready;
    const sub = await subscribe(pub, 'kv-events');
    const firstSeq = pub.stats().batches;
    pub.publish(BATCH);
    pub.publish({ atMs: 0, events: [] }); // empty: not published
    pub.publish({ ...BATCH, atMs: 2500 });
    const frames = [await receiveFrom(sub, firstSeq), await receiveFrom(sub, firstSeq + 1)];
    for (const [i, [topic, seq, payload]] of frames.entries()) {
      expect(topic!.toString()).toBe('kv-events');
      expect(seq).toHaveLength(8);
      expect(Number(seq!.readBigUInt64BE(0))).toBe(firstSeq + i);
      const [ts, events, rank] = decode(payload!) as [number, unknown[], number];
      expect(ts).toBe(i === 0 ? 1001.5 : 1002.5);
      expect(events).toHaveLength(6);
      expect(rank).toBe(2);
    }
    expect(pub.stats()).toMatchObject({ batches: firstSeq + 2, sent: firstSeq + 2, dropped: 0, queued: 0 });
  });

  it('connects to an endpoint that is not a wildcard (a collector binds)', async () => {
    const port = await freePort();
    // The collector binds; the publisher's PUB connects to it.
    const sub = track(new Subscriber({ linger: 0 }));
    await sub.bind(`tcp://127.0.0.1:${port}`);
    sub.subscribe('');
    const pub = track(
      createKvEventPublisher({
        endpoint: `tcp://127.0.0.1:${port}`,
        topic: 't',
        rank: 0,
        format: 'map',
        wallSeconds: () => 1,
      }),
    );
    await pub.ready;
    expect(pub.endpoint).toBe(`tcp://127.0.0.1:${port}`);
    const probe = await probeUntilReceived(pub, sub);
    expect(probe[0]!.toString()).toBe('t');
    const from = pub.stats().batches;
    pub.publish(BATCH);
    const got = await receiveFrom(sub, from);
    expect((decode(got[2]!) as unknown[])[1]).toEqual([
      expect.objectContaining({ type: 'BlockStored' }),
      expect.objectContaining({ type: 'BlockStored' }),
      expect.objectContaining({ type: 'BlockRemoved' }),
      expect.objectContaining({ type: 'BlockStored', medium: 'CPU' }),
      expect.objectContaining({ type: 'BlockRemoved', medium: 'CPU' }),
      { type: 'AllBlocksCleared' },
    ]);
  });

  it('replays the buffered batches from a start seq, then vLLM’s end marker; the buffer is bounded', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const pub = track(
      createKvEventPublisher({
        endpoint: `tcp://*:${p1}`,
        replayEndpoint: `tcp://*:${p2}`,
        topic: 'kv-events',
        rank: 0,
        format: 'array',
        bufferSteps: 50,
        wallSeconds: (atMs) => atMs / 1000,
      }),
    );
    await pub.ready;
    for (let i = 0; i < 80; i++) pub.publish({ ...BATCH, atMs: i * 1000 });
    const dealer = track(new Dealer({ linger: 0 }));
    dealer.connect(`tcp://127.0.0.1:${p2}`);
    const ask = async (start: number) => {
      const seq = Buffer.alloc(8);
      seq.writeBigUInt64BE(BigInt(start));
      await dealer.send(['', seq]);
      const got: [number, Buffer][] = [];
      for (;;) {
        const [delim, seqFrame, payload] = await dealer.receive();
        expect(delim).toHaveLength(0);
        const n = Number(seqFrame!.readBigInt64BE(0));
        if (n === -1) {
          expect(payload).toHaveLength(0);
          return got;
        }
        got.push([n, payload!]);
      }
    };
    const fromSeventy = await ask(70);
    expect(fromSeventy.map(([n]) => n)).toEqual(Array.from({ length: 10 }, (_, i) => 70 + i));
    expect((decode(fromSeventy[0]![1]) as unknown[])[0]).toBe(70);
    // Only the last 50 are kept.
    const all = await ask(0);
    expect(all.map(([n]) => n)).toEqual(Array.from({ length: 50 }, (_, i) => 30 + i));
    expect(await ask(1000)).toEqual([]);
    expect(pub.stats().replays).toBe(3);
  });

  it('never holds more than maxQueue batches: the oldest are dropped and counted, the rest sent', async () => {
    const port = await freePort();
    const pub = track(bindingAt(port, { maxQueue: 10 }));
    // Before the bind resolves nothing is sent: 100 batches overflow the queue of 10.
    for (let i = 0; i < 100; i++) pub.publish(BATCH);
    expect(pub.stats()).toMatchObject({ batches: 100, dropped: 90, queued: 10 });
    await pub.ready;
    await new Promise((r) => setTimeout(r, 50));
    expect(pub.stats()).toMatchObject({ sent: 10, queued: 0 });
  });

  it('stops listening and closes its sockets on close; a second close is harmless', async () => {
    const port = await freePort();
    const pub = bindingAt(port);
    await pub.ready;
    expect(pub.observer.observesKvEvents!()).toBe(true);
    await pub.close();
    expect(pub.observer.observesKvEvents!()).toBe(false);
    pub.publish(BATCH);
    expect(pub.stats().batches).toBe(0);
    await pub.close();
    // The port is free again. libzmq closes the listening socket in its I/O thread, so on a loaded
    // machine the release can trail the awaited unbind by a moment: the port must come back within
    // a second, not necessarily at once (a leaked listener would hold it for good).
    const rebind = async (attemptsLeft: number): Promise<void> => {
      const again = track(bindingAt(port));
      try {
        await again.ready;
      } catch (err) {
        if (attemptsLeft === 0 || !/in use/i.test((err as Error).message)) throw err;
        await again.close(0);
        await new Promise((r) => setTimeout(r, 50));
        await rebind(attemptsLeft - 1);
      }
    };
    await rebind(20);
  });

  it('rejects ready when the port is taken', async () => {
    const port = await freePort();
    const errors: Error[] = [];
    const a = track(bindingAt(port));
    await a.ready;
    const b = track(bindingAt(port, { onError: (e) => errors.push(e) }));
    await expect(b.ready).rejects.toThrow();
    expect(errors).toEqual([]); // reported once, by `ready`
  });
});
