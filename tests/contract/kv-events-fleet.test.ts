/**
 * KV events of a fleet (`serve --replicas 3`) over real ZeroMQ: each replica publishes as its own
 * data-parallel rank, on the endpoint's port plus the rank (vLLM's offset_endpoint_port), each batch
 * carrying the rank. A router that subscribes to every rank rebuilds each replica's cached set from
 * the events alone, and it equals what the replica holds (GET /admin/kv-cache?blocks=1), through a
 * multi-turn load with evictions, client aborts, a host tier, a reset of one replica and of all.
 */
import { createServer } from 'node:net';
import { decode } from '@msgpack/msgpack';
import { afterEach, describe, expect, it } from 'vitest';
import { Subscriber } from 'zeromq';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const TOKEN = 'kv-admin';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const REPLICAS = 3;

type Decoded = [number, unknown[], number];
type Blocks = { gpu: number[]; host: number[] };

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/** `count` consecutive free ports: vLLM's ranks publish on the base port plus their rank. */
async function consecutivePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error('no run of free ports');
}

/** Applies one decoded event (vLLM's array encoding) to a (medium:key) → count multiset. */
function apply(counts: Map<string, number>, ev: unknown[]): void {
  const type = ev[0] as string;
  if (type === 'AllBlocksCleared') return counts.clear();
  const medium = (type === 'BlockStored' ? ev[6] : ev[2]) as string;
  for (const h of ev[1] as number[]) {
    const k = `${medium}:${h}`;
    const n = (counts.get(k) ?? 0) + (type === 'BlockStored' ? 1 : -1);
    expect(n, `${type} ${k}`).toBeGreaterThanOrEqual(0);
    if (n === 0) counts.delete(k);
    else counts.set(k, n);
  }
}

function multiset(blocks: Blocks): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of blocks.gpu) m.set(`GPU:${k}`, (m.get(`GPU:${k}`) ?? 0) + 1);
  for (const k of blocks.host) m.set(`CPU:${k}`, (m.get(`CPU:${k}`) ?? 0) + 1);
  return m;
}

const sorted = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));

async function chat(
  base: string,
  messages: { role: string; content: string }[],
  user: string,
  drop: boolean,
) {
  const ctrl = new AbortController();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages, user, max_tokens: 30, ignore_eos: true, stream: true }),
    signal: ctrl.signal,
  });
  expect(res.status).toBe(200);
  const replica = Number(res.headers.get('x-nimsim-replica'));
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  try {
    for (let chunks = 0; ; chunks++) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      if (drop && chunks >= 2) {
        ctrl.abort();
        return { replica, content: undefined };
      }
    }
  } catch (err) {
    if (!ctrl.signal.aborted) throw err;
  }
  let content = '';
  for (const frame of text.split('\n\n')) {
    if (!frame.startsWith('data: {')) continue;
    content +=
      (JSON.parse(frame.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta
        .content ?? '';
  }
  return { replica, content };
}

describe('KV events of several replicas', () => {
  let server: LiveServer | undefined;
  const subs: Subscriber[] = [];
  afterEach(async () => {
    for (const s of subs) s.close();
    await server?.stop();
  });

  it('publish one rank per replica, and rebuild each replica’s cached set exactly', async () => {
    const base = await consecutivePorts(REPLICAS);
    server = await startLiveServer({
      timeScale: '4',
      replicas: String(REPLICAS),
      router: 'round-robin',
      kvCacheBlocks: '40',
      kvHostCacheBlocks: '20',
      maxNumSeqs: '4',
      adminToken: TOKEN,
      // `*` binds, on base + rank for each replica.
      kvEventsEndpoint: `tcp://*:${base}`,
    });
    const received: { port: number; batch: Decoded }[] = [];
    const loops = Array.from({ length: REPLICAS }, (_, rank) => {
      const sub = new Subscriber({ linger: 0 });
      subs.push(sub);
      sub.connect(`tcp://127.0.0.1:${base + rank}`);
      sub.subscribe('kv-events');
      return (async () => {
        for await (const [, , payload] of sub)
          received.push({ port: base + rank, batch: decode(payload!) as Decoded });
      })().catch(() => undefined);
    });
    await new Promise((r) => setTimeout(r, 300)); // the subscriptions reach the PUB sockets

    // Eight users' conversations of four turns; every seventh request is dropped mid-stream.
    const seen = new Set<number>();
    let n = 0;
    const conversation = async (c: number) => {
      const messages = [{ role: 'system', content: `You are assistant number ${c % 2}. `.repeat(6) }];
      for (let turn = 0; turn < 4; turn++) {
        messages.push({
          role: 'user',
          content: `User ${c}, turn ${turn}: tell me about topic ${c * 7 + turn}.`,
        });
        const r = await chat(server!.baseUrl, messages, `user-${c}`, ++n % 7 === 0);
        seen.add(r.replica);
        if (r.content !== undefined) messages.push({ role: 'assistant', content: r.content });
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(conversation));
    expect(seen.size).toBe(REPLICAS);

    const check = async () => {
      await new Promise((r) => setTimeout(r, 250));
      const kv = (await (
        await fetch(`${server!.baseUrl}/admin/kv-cache?blocks=1`, { headers: AUTH })
      ).json()) as {
        evictions: number;
        host: { used: number };
        replicas: { blocks: Blocks }[];
      };
      for (let rank = 0; rank < REPLICAS; rank++) {
        const mine = received.filter((m) => m.port === base + rank);
        expect(mine.every((m) => m.batch[2] === rank)).toBe(true);
        const counts = new Map<string, number>();
        for (const { batch } of mine) for (const ev of batch[1]) apply(counts, ev as unknown[]);
        expect(sorted(counts), `replica ${rank}`).toEqual(sorted(multiset(kv.replicas[rank]!.blocks)));
      }
      return kv;
    };
    const loaded = await check();
    expect(loaded.evictions).toBeGreaterThan(0);
    expect(loaded.host.used).toBeGreaterThan(0);

    // Resetting one replica changes only its rank's set.
    const one = await fetch(`${server.baseUrl}/admin/kv-cache/reset?replica=1`, {
      method: 'POST',
      headers: AUTH,
    });
    expect(one.status).toBe(200);
    const afterOne = await check();
    expect(afterOne.replicas[1]!.blocks).toEqual({ gpu: [], host: [] });
    expect(afterOne.replicas[0]!.blocks.gpu.length + afterOne.replicas[2]!.blocks.gpu.length).toBeGreaterThan(
      0,
    );

    const all = await fetch(`${server.baseUrl}/admin/kv-cache/reset`, { method: 'POST', headers: AUTH });
    expect(all.status).toBe(200);
    const afterAll = await check();
    for (const r of afterAll.replicas) expect(r.blocks).toEqual({ gpu: [], host: [] });

    for (const s of subs) s.close();
    await Promise.all(loops);
  }, 60_000);
});
