/**
 * Soak: a nimsim child process held at saturation for a bounded time (default 10 minutes), with
 * the traffic that leaks when something is wrong — streams read to the end, streams aborted
 * mid-way, multi-turn prompts that reuse and evict KV blocks, injected faults (status, dropped
 * connections, stalls) — and, beside those users, slow readers that read a long stream far slower
 * than it is written and abusive requests that each must get their 4xx (docs/limits.md). Reports
 * the server's RSS, V8 heap in use and external memory after warm-up and at the end (medians of a
 * window, sampled every 5 s), the same after a forced full collection every 30 s, and whether
 * running requests and KV blocks in use went back to zero. Exits 1 if RSS grew 10 % or more,
 * anything was left running, an abusive request got another status than its own (or a dropped
 * connection), or a slow reader's stream was not cut once the server had written more than its
 * kernel buffers and the stream buffer bound hold.
 *
 *   npx tsx load-tests/soak.ts                      # 600 s, concurrency 128
 *   npx tsx load-tests/soak.ts --duration-s 150     # a shortened run
 *
 * Targets only 127.0.0.1; stops by itself (duration capped at one hour).
 */
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    'duration-s': { type: 'string', default: '600' },
    'warmup-s': { type: 'string' },
    concurrency: { type: 'string', default: '128' },
    'time-scale': { type: 'string', default: '10' },
    'slow-read-kib-s': { type: 'string', default: '8' },
    /** Slow readers (default concurrency / 32, at least 1); 0 for a control run without them. */
    'slow-readers': { type: 'string' },
  },
});
const durationS = Math.min(3600, Number(args['duration-s']));
const warmupS = Number(args['warmup-s'] ?? Math.min(60, durationS / 10));
const concurrency = Math.min(1024, Number(args.concurrency));
const MODEL = 'meta/llama-3.1-8b-instruct';
const ADMIN = 'soak-admin';
const MAX_BODY_BYTES = 2 ** 20;
/** A share of the users are slow readers, another share send abusive requests. */
const slowReaders = Number(args['slow-readers'] ?? Math.max(1, Math.round(concurrency / 32)));
const abusers = Math.max(1, Math.round(concurrency / 64));

/** A free port on 127.0.0.1, picked by the OS. */
const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const p = (probe.address() as AddressInfo).port;
    probe.close(() => resolve(p));
  });
});

const child = spawn(
  process.execPath,
  [
    // A full collection and process.memoryUsage() on SIGUSR2 (memorySnapshot below).
    '--expose-gc',
    '--import',
    fileURLToPath(new URL('./lib/memory-on-signal.mjs', import.meta.url)),
    'dist/cli.js',
    'serve',
    '--port',
    String(port),
    '--host',
    '127.0.0.1',
    '--time-scale',
    String(args['time-scale']),
    '--kv-cache-blocks',
    '4000',
    '--admin-token',
    ADMIN,
    '--fault-delay-ms',
    '200',
    '--log-level',
    'WARNING',
    // A small body bound, so that the oversized uploads of the abusive mix are cheap to send.
    '--max-body-bytes',
    String(MAX_BODY_BYTES),
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
const stopChild = () => child.kill('SIGTERM');
process.on('exit', stopChild);

// Wait until it answers; the port was picked free just before (the start line is not logged at WARNING).
await new Promise<void>((resolve, reject) => {
  let log = '';
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${log}`)));
  const started = Date.now();
  const poll = () =>
    fetch(`http://127.0.0.1:${port}/v1/health/ready`).then(
      (r) => (r.ok ? resolve() : setTimeout(poll, 100)),
      () =>
        Date.now() - started > 20_000
          ? reject(new Error('server did not answer within 20 s'))
          : setTimeout(poll, 100),
    );
  poll();
});
const base = `http://127.0.0.1:${port}`;

/** RSS, V8 heap in use and memory outside the heap (buffers), from the server's own metrics. */
async function memoryBytes(): Promise<{ rss: number; heapUsed: number; external: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`${name} `))
        ?.split(' ')
        .at(-1),
    );
  return {
    rss: value('process_resident_memory_bytes'),
    heapUsed: value('nodejs_heap_size_used_bytes'),
    external: value('nodejs_external_memory_bytes'),
  };
}

interface MemoryUsage {
  readonly rss: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}
/** Lines `nimsim-memory {json}` the server writes on SIGUSR2 (lib/memory-on-signal.mjs). */
const memoryLines: ((usage: { before: MemoryUsage; after: MemoryUsage }) => void)[] = [];
let stderrTail = '';
child.stderr.on('data', (d: Buffer) => {
  stderrTail += d.toString();
  for (let nl = stderrTail.indexOf('\n'); nl >= 0; nl = stderrTail.indexOf('\n')) {
    const line = stderrTail.slice(0, nl);
    stderrTail = stderrTail.slice(nl + 1);
    if (line.startsWith('nimsim-memory ')) memoryLines.shift()?.(JSON.parse(line.slice(14)));
  }
});
const mb = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);
/**
 * The server's memory before and after a full collection, in MB: what is live (heapUsed after),
 * what was garbage (heapUsed before minus after), what V8 keeps reserved (heapTotal), what lies
 * outside the heap (external, arrayBuffers) and the rest of RSS (code, stacks, allocator slack).
 */
function memorySnapshot(label: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    memoryLines.push(({ before, after }) =>
      resolve({
        label,
        t_s: Math.round((Date.now() - t0) / 1000),
        rss_before_gc: mb(before.rss),
        rss_after_gc: mb(after.rss),
        heap_used_before_gc: mb(before.heapUsed),
        heap_used_after_gc: mb(after.heapUsed),
        heap_total_after_gc: mb(after.heapTotal),
        external_after_gc: mb(after.external),
        array_buffers_after_gc: mb(after.arrayBuffers),
        rss_outside_heap_after_gc: mb(after.rss - after.heapTotal - after.external),
      }),
    );
    child.kill('SIGUSR2');
  });
}

async function engineState(): Promise<{ running: number; waiting: number; blocksInUse: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`${name}{`))
        ?.split(' ')
        .at(-1),
    );
  const kv = (await (
    await fetch(`${base}/admin/kv-cache`, { headers: { authorization: `Bearer ${ADMIN}` } })
  ).json()) as {
    gpu: { inUse: number };
  };
  return {
    running: value('vllm:num_requests_running'),
    waiting: value('vllm:num_requests_waiting'),
    blocksInUse: kv.gpu.inUse,
  };
}

const counts = { ok: 0, aborted: 0, faulted: 0, errors: 0, statuses: {} as Record<string, number> };
const deadline = Date.now() + durationS * 1000;

/** One closed-loop user: multi-turn sessions, every 5th stream aborted mid-way, every 20th request faulted. */
async function user(id: number): Promise<void> {
  let n = 0;
  while (Date.now() < deadline) {
    const history = [{ role: 'system', content: `You are assistant ${id % 8}. ${'Be brief. '.repeat(40)}` }];
    for (let turn = 0; turn < 4 && Date.now() < deadline; turn++, n++) {
      history.push({
        role: 'user',
        content: `Question ${n} from user ${id}: tell me about topic ${n % 50}.`,
      });
      const abort = n % 5 === 4;
      const fault =
        n % 20 === 7
          ? ['rate_limit', 'disconnect', 'stall', 'server_error', 'timeout'][((n / 20) % 5) | 0]
          : undefined;
      const controller = new AbortController();
      try {
        const res = await fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(fault ? { 'x-nimsim-fault': fault } : {}) },
          body: JSON.stringify({ model: MODEL, messages: history, max_tokens: 48, stream: true }),
          signal: controller.signal,
        });
        counts.statuses[res.status] = (counts.statuses[res.status] ?? 0) + 1;
        if (!res.ok || !res.body) {
          await res.text();
          counts.faulted++;
          continue;
        }
        const reader = res.body.getReader();
        let frames = 0;
        let text = '';
        const dec = new TextDecoder();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          text += dec.decode(value);
          if (abort && ++frames === 4) {
            controller.abort();
            break;
          }
        }
        if (abort) counts.aborted++;
        else counts.ok++;
        history.push({ role: 'assistant', content: text.length > 0 ? `Answer ${n}.` : '' });
      } catch {
        if (fault) counts.faulted++;
        else if (abort) counts.aborted++;
        else counts.errors++;
      }
    }
  }
}

/**
 * Slow readers: a long stream (ignore_eos, 20 top logprobs a token, so ~10 MB of frames) sent
 * over a raw socket that is then read at SLOW_READ_BYTES_PER_S. Node takes bytes from the kernel
 * only as the reader asks, so what the server wrote and the reader has not read piles up in the
 * kernel's socket buffers (~3.9 MB on loopback) and then in nimsim's stream buffer, whose bound
 * (NIMSIM_STREAM_BUFFER_BYTES, 1 MiB) must make the server abort the stream and close the
 * connection.
 *
 * How long to read slowly follows the bytes the server writes, not a clock: beside each slow
 * stream runs a twin (the same request, read as fast as it comes), whose bytes are what the server
 * wrote for the slow stream too until it cut it (same request, same engine). Once the twin has
 * more than SLOW_BACKLOG_BYTES beyond what the slow reader read, the server must have cut the slow
 * stream; the twin is dropped and the slow stream read to its end at once: a cut stream ends
 * without `[DONE]` right after the bytes the kernel held. A loaded machine only makes this take
 * longer (the old fixed 40 s hold left streams uncut when the server wrote slowly).
 */
const SLOW_READ_BYTES_PER_S = Number(args['slow-read-kib-s']) * 1024;
/** Unread bytes past which the stream must have been cut: kernel buffers (~3.9 MB) + 1 MiB + margin. */
const SLOW_BACKLOG_BYTES = 6 * 2 ** 20;
/** Reserve at the end of the run for the drain and its 15 s give-up. */
const SLOW_DRAIN_MS = 15_000;
/** `due`: streams the server was bound to have cut (their twin passed the backlog); `due_not_cut`: failures. */
const slow = { sent: 0, cut: 0, finished: 0, still_open: 0, due: 0, due_not_cut: 0 };
/** Per outcome: KiB read at the slow rate, KiB the twin read, KiB drained after, and seconds. */
const slowDetail: Record<
  string,
  { slow_kb: number; twin_kb: number; drained_kb: number; s: number; due: boolean }[]
> = {
  cut: [],
  finished: [],
  still_open: [],
};
const slowBody = JSON.stringify({
  model: MODEL,
  messages: [{ role: 'user', content: 'Write a very long story.' }],
  max_tokens: 8000,
  ignore_eos: true,
  logprobs: true,
  top_logprobs: 20,
  stream: true,
});

/** The slow stream's twin: counts the bytes of the same request read as fast as they come. */
function twinStream(): { bytes: () => number; stop: () => void } {
  const controller = new AbortController();
  let bytes = 0;
  void fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: slowBody,
    signal: controller.signal,
  })
    .then(async (res) => {
      if (!res.body) return;
      for await (const chunk of res.body) bytes += (chunk as Uint8Array).length;
    })
    .catch(() => undefined);
  return { bytes: () => bytes, stop: () => controller.abort() };
}

function slowStream(): Promise<'cut' | 'finished' | 'still_open'> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const twin = twinStream();
    let tail = '';
    let ended = false;
    let slowBytes = 0;
    let twinBytes = 0;
    let drained = 0;
    let draining = false;
    let due = false;
    socket.setEncoding('latin1');
    socket.on('error', () => undefined);
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(slowBody)}\r\nconnection: close\r\n\r\n${slowBody}`,
    );
    socket.pause();
    const keep = (d: string) => (tail = (tail + d).slice(-64));
    let giveUp: NodeJS.Timeout | undefined;
    const drain = () => {
      if (draining) return;
      draining = true;
      clearInterval(pace);
      twinBytes = twin.bytes();
      twin.stop();
      giveUp = setTimeout(() => socket.destroy(), SLOW_DRAIN_MS);
      socket.on('data', (d: string) => {
        drained += d.length;
        keep(d);
      });
      socket.resume();
    };
    // Paused: `read()` hands over what Node holds (up to its 16 KiB buffer) and only then does
    // Node take more from the kernel. Every 250 ms the reader takes a quarter second's worth.
    const tickMs = 250;
    let allowance = 0;
    const pace = setInterval(() => {
      allowance += (SLOW_READ_BYTES_PER_S * tickMs) / 1000;
      for (let chunk: string | null; allowance > 0 && (chunk = socket.read() as string | null) !== null;) {
        allowance -= chunk.length;
        slowBytes += chunk.length;
        keep(chunk);
      }
      due ||= twin.bytes() - slowBytes > SLOW_BACKLOG_BYTES;
      if (ended || due || Date.now() + SLOW_DRAIN_MS >= deadline) drain();
    }, tickMs);
    socket.on('end', () => (ended = true));
    socket.on('close', () => {
      clearInterval(pace);
      clearTimeout(giveUp);
      twin.stop();
      const outcome = tail.includes('[DONE]') ? 'finished' : ended ? 'cut' : 'still_open';
      slowDetail[outcome]!.push({
        slow_kb: Math.round(slowBytes / 1024),
        twin_kb: Math.round(twinBytes / 1024),
        drained_kb: Math.round(drained / 1024),
        s: Math.round((Date.now() - started) / 1000),
        due,
      });
      if (due) slow.due++;
      if (due && outcome !== 'cut') slow.due_not_cut++;
      resolve(outcome);
    });
  });
}

async function slowReader(id: number): Promise<void> {
  await new Promise((r) => setTimeout(r, (id * 3_000) % 30_000));
  // A stream still reading slowly when the run ends is drained then; start none in the last 60 s.
  while (Date.now() + 60_000 < deadline) {
    slow.sent++;
    slow[await slowStream()]++;
  }
}

/**
 * Abusive requests, one kind after another at a low rate, each with the status it must get: the
 * bounds of docs/limits.md. A dropped connection or any other status is unexpected.
 */
const chat = (extra: Record<string, unknown>, content = 'Hello.') =>
  JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: 8, ...extra });
const abusive: { kind: string; expect: number; send: () => Promise<number | 'dropped'> }[] = [
  { kind: 'oversized_chunked_upload', expect: 413, send: oversizedUpload },
  {
    kind: 'invalid_utf8',
    expect: 400,
    send: () =>
      post(Buffer.concat([Buffer.from(chat({}).slice(0, -1)), Buffer.from([0xff, 0xfe]), Buffer.from('}')])),
  },
  {
    kind: 'tokens_over_bound',
    expect: 400,
    send: () => post(chat({ n: 16, max_tokens: 131_000, ignore_eos: true })),
  },
  {
    kind: 'logprobs_over_bound',
    expect: 400,
    send: () => post(chat({ max_tokens: 100_000, ignore_eos: true, logprobs: true, top_logprobs: 20 })),
  },
  { kind: 'nested_regex', expect: 400, send: () => post(chat({ guided_regex: '((a{1000}){1000}){1000}' })) },
  {
    kind: 'schema_min_items',
    expect: 400,
    send: () =>
      post(chat({ guided_json: { type: 'array', items: { type: 'integer' }, minItems: 100_000_000 } })),
  },
  { kind: 'long_stop_string', expect: 400, send: () => post(chat({ stop: 'x'.repeat(200_000) })) },
  { kind: 'whitespace_1mb_message', expect: 200, send: () => post(chat({}, ' '.repeat(1_000_000))) },
];
const abuse: Record<string, Record<string, number>> = {};
let unexpectedStatuses = 0;

async function post(body: string | Buffer): Promise<number | 'dropped'> {
  try {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 'dropped';
  }
}

/** 2 MiB in 64 KiB chunks (no content-length), twice the server's bound. */
function oversizedUpload(): Promise<number | 'dropped'> {
  return new Promise((resolve) => {
    const req = httpRequest(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 'dropped'));
      res.on('error', () => resolve(res.statusCode ?? 'dropped'));
    });
    req.on('error', () => resolve('dropped'));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    req.write('{"model":"' + MODEL + '","messages":[{"role":"user","content":"');
    for (let sent = 0; sent <= 2 * MAX_BODY_BYTES; sent += chunk.length) req.write(chunk);
    req.end('"}]}');
  });
}

async function abuser(id: number): Promise<void> {
  for (let i = id; Date.now() < deadline; i++) {
    const { kind, expect, send } = abusive[i % abusive.length]!;
    const status = await send();
    const byKind = (abuse[kind] ??= {});
    byKind[status] = (byKind[status] ?? 0) + 1;
    if (status !== expect) unexpectedStatuses++;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const t0 = Date.now();
const samples: { t_s: number; rss_mb: number; heap_used_mb: number; external_mb: number }[] = [];
const sampler = setInterval(() => {
  void memoryBytes().then((m) =>
    samples.push({
      t_s: Math.round((Date.now() - t0) / 1000),
      rss_mb: mb(m.rss),
      heap_used_mb: mb(m.heapUsed),
      external_mb: mb(m.external),
    }),
  );
}, 5_000);
// Forced collections, every 30 s from launch: each costs the server one full GC pause.
const snapshots: Record<string, unknown>[] = [await memorySnapshot('launch')];
const snapshotTimer = setInterval(() => void memorySnapshot('load').then((x) => snapshots.push(x)), 30_000);
const rssAtLaunch = (await memoryBytes()).rss;

await Promise.all([
  ...Array.from({ length: concurrency }, (_, i) => user(i)),
  ...Array.from({ length: slowReaders }, (_, i) => slowReader(i)),
  ...Array.from({ length: abusers }, (_, i) => abuser(i)),
]);
clearInterval(sampler);
clearInterval(snapshotTimer);
await new Promise((r) => setTimeout(r, 1_000));
snapshots.push(await memorySnapshot('after the load'));
// RSS saws up and down with V8's collections; compare medians of a window rather than two points.
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const windowS = Math.max(15, Math.min(60, durationS / 10));
const firstWindow = samples.filter((x) => x.t_s >= warmupS && x.t_s < warmupS + windowS);
const lastWindow = samples.filter((x) => x.t_s > durationS - windowS);
const rssStartMb = median(firstWindow.map((x) => x.rss_mb));
const rssEndMb = median(lastWindow.map((x) => x.rss_mb));
const after = await engineState();
const requests = counts.ok + counts.aborted + counts.faulted + counts.errors;
const report = {
  duration_s: durationS,
  warmup_s: warmupS,
  concurrency,
  time_scale: Number(args['time-scale']),
  requests,
  requests_per_s: +(requests / ((Date.now() - t0) / 1000)).toFixed(1),
  completed: counts.ok,
  aborted_mid_stream: counts.aborted,
  faulted: counts.faulted,
  unexpected_errors: counts.errors,
  statuses: counts.statuses,
  slow_readers: {
    users: slowReaders,
    read_kib_per_s: SLOW_READ_BYTES_PER_S / 1024,
    backlog_kib: SLOW_BACKLOG_BYTES / 1024,
    ...slow,
    streams: slowDetail,
  },
  abusive_requests: { users: abusers, by_kind_and_status: abuse, unexpected: unexpectedStatuses },
  rss_mb: {
    at_launch: +(rssAtLaunch / 2 ** 20).toFixed(1),
    start_median_after_warmup: rssStartMb,
    end_median: rssEndMb,
    window_s: windowS,
  },
  heap_used_mb: {
    start_median_after_warmup: median(firstWindow.map((x) => x.heap_used_mb)),
    end_median: median(lastWindow.map((x) => x.heap_used_mb)),
  },
  external_mb: {
    start_median_after_warmup: median(firstWindow.map((x) => x.external_mb)),
    end_median: median(lastWindow.map((x) => x.external_mb)),
  },
  memory_after_full_gc: snapshots,
  rss_growth_pct: rssStartMb > 0 ? +((100 * (rssEndMb - rssStartMb)) / rssStartMb).toFixed(1) : null,
  after_idle: after,
  samples,
};
console.log(JSON.stringify(report, null, 2));
stopChild();
const ok =
  report.rss_growth_pct !== null &&
  report.rss_growth_pct < 10 &&
  after.running === 0 &&
  after.blocksInUse === 0 &&
  unexpectedStatuses === 0 &&
  (slowReaders === 0 || slow.due > 0) &&
  slow.due_not_cut === 0 &&
  slow.finished === 0;
console.log(ok ? 'soak: OK' : 'soak: FAIL');
process.exit(ok ? 0 : 1);
