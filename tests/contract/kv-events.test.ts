/**
 * vLLM's KV events from a real nimsim server over real ZeroMQ sockets, read the way a KV-aware
 * router reads them: a SUB socket on the topic, msgpack-decoded batches, gaps filled from the replay
 * ROUTER. Through a multi-turn load on a small cache (evictions), streams the client drops (aborts),
 * a host tier with a disk tier below it and resets (one while requests run, one idle), the set of
 * (medium, key) rebuilt from the events alone must equal the engine's own
 * (GET /admin/kv-cache?blocks=1), duplicates included.
 */
import { decode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import { Dealer, Subscriber } from 'zeromq';
import { freePort } from '../../load-tests/lib/child-server.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const TOKEN = 'kv-admin';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

type Decoded = [number, unknown[], number];

/** (medium, key) → count, from one decoded event of either encoding. */
function apply(counts: Map<string, number>, ev: unknown): void {
  let type: string, hashes: number[], medium: string;
  if (Array.isArray(ev)) {
    type = ev[0] as string;
    if (type === 'AllBlocksCleared') return counts.clear();
    hashes = ev[1] as number[];
    medium = (type === 'BlockStored' ? ev[6] : ev[2]) as string;
  } else {
    const m = ev as { type: string; block_hashes: number[]; medium: string };
    type = m.type;
    if (type === 'AllBlocksCleared') return counts.clear();
    hashes = m.block_hashes;
    medium = m.medium;
  }
  for (const h of hashes) {
    const k = `${medium}:${h}`;
    const n = (counts.get(k) ?? 0) + (type === 'BlockStored' ? 1 : -1);
    expect(n, `${type} ${k}`).toBeGreaterThanOrEqual(0);
    if (n === 0) counts.delete(k);
    else counts.set(k, n);
  }
}

function multiset(blocks: { gpu: number[]; host: number[]; disk?: number[] }): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of blocks.gpu) m.set(`GPU:${k}`, (m.get(`GPU:${k}`) ?? 0) + 1);
  for (const k of blocks.host) m.set(`CPU:${k}`, (m.get(`CPU:${k}`) ?? 0) + 1);
  for (const k of blocks.disk ?? []) m.set(`DISK:${k}`, (m.get(`DISK:${k}`) ?? 0) + 1);
  return m;
}

const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

/** Every buffered batch from `start` on, through the replay ROUTER (vLLM's request framing). */
async function replay(endpoint: string, start: number): Promise<[number, Buffer][]> {
  const dealer = new Dealer({ linger: 0, receiveTimeout: 5000 });
  dealer.connect(endpoint);
  try {
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(BigInt(start));
    await dealer.send(['', seq]);
    const out: [number, Buffer][] = [];
    for (;;) {
      const [, seqFrame, payload] = await dealer.receive();
      const n = Number(seqFrame!.readBigInt64BE(0));
      if (n === -1) return out;
      out.push([n, payload!]);
    }
  } finally {
    dealer.close();
  }
}

async function chat(
  base: string,
  messages: { role: string; content: string }[],
  maxTokens: number,
  abortAfterChunks?: number,
) {
  const ctrl = new AbortController();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages, max_tokens: maxTokens, ignore_eos: true, stream: true }),
    signal: ctrl.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  let chunks = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      chunks++;
      if (abortAfterChunks !== undefined && chunks >= abortAfterChunks) {
        ctrl.abort();
        return { aborted: true, content: '' };
      }
    }
  } catch (err) {
    if (!ctrl.signal.aborted) throw err;
  }
  let content = '';
  for (const frame of text.split('\n\n')) {
    if (!frame.startsWith('data: {')) continue;
    const delta = (JSON.parse(frame.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]
      ?.delta;
    content += delta?.content ?? '';
  }
  return { aborted: false, content };
}

/**
 * A stream long enough to outlast the test's reset, open (its first chunk read) until released:
 * 400 tokens, ~460 ms of the engine's timeline at the test's time scale, so that even after an
 * event-loop stall the engine makes up (up to 250 ms, back to back) it is still running when the
 * reset comes ~100 ms after its first tokens. (It holds 26 of the cache's 32 blocks at its end;
 * the conversations preempted meanwhile resume once it is released.)
 */
async function holdStream(base: string): Promise<{ release: () => Promise<void> }> {
  const ctrl = new AbortController();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hold this stream open while the cache is reset.' }],
      max_tokens: 400,
      ignore_eos: true,
      stream: true,
    }),
    signal: ctrl.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  // Past the role chunk, into decoded tokens: the request holds its KV blocks from here on.
  const dec = new TextDecoder();
  let text = '';
  while (text.split('data: ').length <= 3) {
    const { done, value } = await reader.read();
    expect(done).toBe(false);
    text += dec.decode(value, { stream: true });
  }
  return {
    release: async () => {
      ctrl.abort();
      await reader.read().catch(() => undefined);
    },
  };
}

describe.each(['array', 'map'] as const)('KV events from a live server (%s encoding)', (format) => {
  let server: LiveServer | undefined;
  let sub: Subscriber | undefined;
  afterEach(async () => {
    sub?.close();
    await server?.stop();
  });

  it('rebuild the cached set exactly, through evictions, aborts, host and disk tiers and resets; replay fills gaps', async () => {
    const [pubPort, replayPort] = [await freePort(), await freePort()];
    // The PUB socket connects to this subscriber (a collector that binds, as Dynamo's does).
    sub = new Subscriber({ linger: 0 });
    await sub.bind(`tcp://127.0.0.1:${pubPort}`);
    sub.subscribe('kv-events');
    const received: { topic: string; seq: number; payload: Buffer }[] = [];
    const listening = (async () => {
      for await (const [topic, seq, payload] of sub!) {
        received.push({ topic: topic!.toString(), seq: Number(seq!.readBigUInt64BE(0)), payload: payload! });
      }
    })().catch(() => undefined);

    const startS = Date.now() / 1000;
    server = await startLiveServer({
      timeScale: '4',
      kvCacheBlocks: '32',
      kvHostCacheBlocks: '12',
      kvDiskCacheBlocks: '48',
      maxNumSeqs: '4',
      adminToken: TOKEN,
      kvEventsEndpoint: `tcp://127.0.0.1:${pubPort}`,
      kvEventsReplayEndpoint: `tcp://127.0.0.1:${replayPort}`,
      kvEventsFormat: format,
    });
    const base = server.baseUrl;
    const replayAt = `tcp://127.0.0.1:${replayPort}`;

    // Six conversations of three turns; every fifth request is dropped by its client mid-stream.
    let n = 0;
    let aborted = 0;
    const conversation = async (c: number) => {
      const messages = [{ role: 'system', content: `You are assistant number ${c % 3}.` }];
      for (let turn = 0; turn < 3; turn++) {
        messages.push({
          role: 'user',
          content: `Conversation ${c}, turn ${turn}: tell me about topic ${c * 7 + turn}.`,
        });
        const dropIt = ++n % 5 === 0;
        const r = await chat(base, messages, 24 + ((c * 5 + turn * 3) % 20), dropIt ? 3 : undefined);
        if (r.aborted) aborted++;
        else messages.push({ role: 'assistant', content: r.content });
      }
    };
    // A reset while requests run: blocks in use keep their keys, so BlockRemoved, not AllBlocksCleared.
    // A long stream held open across it makes sure some blocks are in use whatever the machine's pace
    // (on a slow runner the conversations' requests could all be between steps at a fixed delay); it
    // starts first, so preemption (which takes the latest-scheduled sequence) leaves it running.
    const held = await holdStream(base);
    const load = Promise.all([0, 1, 2, 3, 4, 5].map(conversation));
    await new Promise((r) => setTimeout(r, 100));
    const midReset = await fetch(`${base}/admin/kv-cache/reset`, { method: 'POST', headers: AUTH });
    expect(midReset.status).toBe(200);
    const afterMidReset = (await midReset.json()) as { gpu: { inUse: number; cached: number } };
    expect(afterMidReset.gpu.inUse).toBeGreaterThan(0);
    expect(afterMidReset.gpu.cached).toBeGreaterThan(0);
    await held.release();
    await load;
    // A second wave after the reset refills the cache, evicting into the host tier and on to disk.
    await Promise.all([6, 7, 8, 9].map(conversation));
    expect(aborted).toBeGreaterThan(0);

    const check = async () => {
      await new Promise((r) => setTimeout(r, 200)); // the last batches reach the subscriber
      const stats = (await (await fetch(`${base}/admin/kv-cache?blocks=1`, { headers: AUTH })).json()) as {
        evictions: number;
        host_evictions: number;
        host: { used: number };
        disk: { used: number };
        blocks: { gpu: number[]; host: number[]; disk: number[] };
      };
      // A router that joins late gets the batches it missed from the replay buffer: this one
      // pretends it missed the first third of what the live socket delivered.
      const live = received.slice(Math.floor(received.length / 3));
      const first = live[0]?.seq ?? 0;
      expect(first).toBeGreaterThan(0);
      const missed = await replay(replayAt, 0);
      expect(missed.slice(0, first).map(([s]) => s)).toEqual(Array.from({ length: first }, (_, i) => i));
      const all = [...missed.slice(0, first).map(([seq, payload]) => ({ seq, payload })), ...live];
      expect(all.map((m) => m.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i));
      const counts = new Map<string, number>();
      let lastTs = 0;
      for (const { payload } of all) {
        const [ts, events, rank] = decode(payload) as Decoded;
        expect(rank).toBe(0);
        expect(ts).toBeGreaterThanOrEqual(Math.max(lastTs, startS - 1));
        expect(ts).toBeLessThanOrEqual(Date.now() / 1000 + 1);
        lastTs = ts;
        for (const ev of events) apply(counts, ev);
      }
      expect(live.every((m) => m.topic === 'kv-events')).toBe(true);
      expect(sorted(counts)).toEqual(sorted(multiset(stats.blocks)));
      return { stats, all };
    };

    const { stats, all } = await check();
    expect(stats.evictions).toBeGreaterThan(0);
    expect(stats.host.used).toBeGreaterThan(0);
    expect(stats.host_evictions).toBeGreaterThan(0);
    expect(stats.disk.used).toBeGreaterThan(0);
    expect(stats.blocks.gpu.length).toBeGreaterThan(0);
    const tags = new Set(
      all.flatMap(({ payload }) =>
        (decode(payload) as Decoded)[1].map(
          (ev) => (Array.isArray(ev) ? ev[0] : (ev as { type: string }).type) as string,
        ),
      ),
    );
    expect(tags).toEqual(new Set(['BlockStored', 'BlockRemoved']));

    // The replay buffer holds what was published, byte for byte.
    const replayed = await replay(replayAt, 0);
    expect(replayed.length).toBe(all.length);
    for (const [i, [seq, payload]] of replayed.entries()) {
      expect(seq).toBe(i);
      expect(payload.equals(all[i]!.payload)).toBe(true);
    }

    // Idle, a reset leaves nothing keyed: one AllBlocksCleared, and the rebuilt set is empty.
    const reset = await fetch(`${base}/admin/kv-cache/reset`, { method: 'POST', headers: AUTH });
    expect(reset.status).toBe(200);
    const after = await check();
    const lastBatch = decode(after.all.at(-1)!.payload) as Decoded;
    expect(lastBatch[1]).toEqual([format === 'array' ? ['AllBlocksCleared'] : { type: 'AllBlocksCleared' }]);
    expect(after.stats.blocks).toEqual({ gpu: [], host: [], disk: [] });

    sub.close();
    await listening;
  }, 60_000);
});

describe('KV events settings', () => {
  it('GET /admin/kv-cache?blocks=1 is behind the admin token like every admin route', async () => {
    const server = await startLiveServer({ adminToken: TOKEN });
    try {
      expect((await fetch(`${server.baseUrl}/admin/kv-cache?blocks=1`)).status).toBe(401);
      const ok = (await (
        await fetch(`${server.baseUrl}/admin/kv-cache?blocks=1`, { headers: AUTH })
      ).json()) as {
        blocks: unknown;
      };
      expect(ok.blocks).toEqual({ gpu: [], host: [] });
      const plain = (await (
        await fetch(`${server.baseUrl}/admin/kv-cache`, { headers: AUTH })
      ).json()) as object;
      expect(plain).not.toHaveProperty('blocks');
    } finally {
      await server.stop();
    }
  });

  it('a taken port or a replay endpoint without an endpoint is a ConfigError naming the setting', async () => {
    const port = await freePort();
    const first = await startLiveServer({ kvEventsEndpoint: `tcp://*:${port}` });
    try {
      await expect(startLiveServer({ kvEventsEndpoint: `tcp://*:${port}` })).rejects.toThrow(
        /^--kv-events-endpoint=tcp:\/\/\*:\d+: cannot publish there: \S/,
      );
    } finally {
      await first.stop();
    }
    await expect(startLiveServer({ kvEventsReplayEndpoint: `tcp://127.0.0.1:${port}` })).rejects.toThrow(
      /^--kv-events-replay-endpoint=tcp:\/\/127\.0\.0\.1:\d+: needs --kv-events-endpoint /,
    );
  });
});
