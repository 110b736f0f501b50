/**
 * Soak: a nimsim child process held at saturation for a bounded time (default 10 minutes), with
 * the traffic that leaks when something is wrong — streams read to the end, streams aborted
 * mid-way, multi-turn prompts that reuse and evict KV blocks, injected faults (status, dropped
 * connections, stalls) — and, beside those users, slow readers that leave a long stream unread and
 * abusive requests that each must get their 4xx (README "Limits"). Reports the server's RSS after
 * warm-up and at the end (medians of a window, sampled every 5 s), and whether running requests
 * and KV blocks in use went back to zero. Exits 1 if RSS grew 10 % or more, anything was left
 * running, an abusive request got another status than its own (or a dropped connection), or a
 * slow reader's stream was not cut by the server.
 *
 *   npx tsx load-tests/soak.ts                      # 600 s, concurrency 128
 *   npx tsx load-tests/soak.ts --duration-s 150     # a shortened run
 *
 * Targets only 127.0.0.1; stops by itself (duration capped at one hour).
 */
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    'duration-s': { type: 'string', default: '600' },
    'warmup-s': { type: 'string' },
    concurrency: { type: 'string', default: '128' },
    'time-scale': { type: 'string', default: '10' },
  },
});
const durationS = Math.min(3600, Number(args['duration-s']));
const warmupS = Number(args['warmup-s'] ?? Math.min(60, durationS / 10));
const concurrency = Math.min(1024, Number(args.concurrency));
const MODEL = 'meta/llama-3.1-8b-instruct';
const ADMIN = 'soak-admin';
const MAX_BODY_BYTES = 2 ** 20;
/** A share of the users are slow readers, another share send abusive requests. */
const slowReaders = Math.max(1, Math.round(concurrency / 32));
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

async function rssBytes(): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('process_resident_memory_bytes'));
  return Number(line?.split(' ').at(-1));
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
 * over a raw socket that is then left unread. Node stops taking bytes from the kernel once its
 * 16 KiB buffer is full, so past the kernel's socket buffers (a few MiB) and nimsim's stream
 * buffer bound (1 MiB) the server must abort the stream and close the connection. After the hold
 * the socket is read to its end: a cut stream ends without `[DONE]`.
 */
// Long enough for the server to produce ~5 MB of frames at saturation on a loaded 2-core machine.
const SLOW_HOLD_MS = 40_000;
const slow = { sent: 0, cut: 0, finished: 0, still_open: 0 };
/** Bytes each slow reader found waiting when it started to read (kernel buffers and what followed). */
const slowDrainedKb: Record<string, number[]> = { cut: [], finished: [], still_open: [] };

function slowStream(): Promise<'cut' | 'finished' | 'still_open'> {
  const body = JSON.stringify({
    model: MODEL,
    messages: [{ role: 'user', content: 'Write a very long story.' }],
    max_tokens: 8000,
    ignore_eos: true,
    logprobs: true,
    top_logprobs: 20,
    stream: true,
  });
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let ended = false;
    socket.setEncoding('latin1');
    socket.on('error', () => undefined);
    socket.on('end', () => (ended = true));
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    socket.pause();
    setTimeout(() => {
      // Read what is left; a server that did not cut the stream either finishes it ([DONE]) or is
      // still writing when the read gives up.
      const giveUp = setTimeout(() => socket.destroy(), 15_000);
      const finished = () => text.includes('[DONE]');
      let drained = 0;
      socket.on('data', (d: string) => {
        drained += d.length;
        text = (text + d).slice(-64);
      });
      socket.on('close', () => {
        clearTimeout(giveUp);
        const outcome = finished() ? 'finished' : ended ? 'cut' : 'still_open';
        slowDrainedKb[outcome]!.push(Math.round(drained / 1024));
        resolve(outcome);
      });
      socket.resume();
    }, SLOW_HOLD_MS);
  });
}

async function slowReader(id: number): Promise<void> {
  await new Promise((r) => setTimeout(r, (id * 3_000) % SLOW_HOLD_MS));
  while (Date.now() + SLOW_HOLD_MS + 15_000 < deadline) {
    slow.sent++;
    slow[await slowStream()]++;
  }
}

/**
 * Abusive requests, one kind after another at a low rate, each with the status it must get: the
 * bounds of README's "Limits" section. A dropped connection or any other status is unexpected.
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
const samples: { t_s: number; rss_mb: number }[] = [];
const sampler = setInterval(() => {
  void rssBytes().then((b) =>
    samples.push({ t_s: Math.round((Date.now() - t0) / 1000), rss_mb: +(b / 2 ** 20).toFixed(1) }),
  );
}, 5_000);
const rssAtLaunch = await rssBytes();

await Promise.all([
  ...Array.from({ length: concurrency }, (_, i) => user(i)),
  ...Array.from({ length: slowReaders }, (_, i) => slowReader(i)),
  ...Array.from({ length: abusers }, (_, i) => abuser(i)),
]);
clearInterval(sampler);
await new Promise((r) => setTimeout(r, 1_000));
// RSS saws up and down with V8's collections; compare medians of a window rather than two points.
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const windowS = Math.max(15, Math.min(60, durationS / 10));
const rssStartMb = median(
  samples.filter((x) => x.t_s >= warmupS && x.t_s < warmupS + windowS).map((x) => x.rss_mb),
);
const rssEndMb = median(samples.filter((x) => x.t_s > durationS - windowS).map((x) => x.rss_mb));
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
  slow_readers: { users: slowReaders, hold_s: SLOW_HOLD_MS / 1000, ...slow, drained_kb: slowDrainedKb },
  abusive_requests: { users: abusers, by_kind_and_status: abuse, unexpected: unexpectedStatuses },
  rss_mb: {
    at_launch: +(rssAtLaunch / 2 ** 20).toFixed(1),
    start_median_after_warmup: rssStartMb,
    end_median: rssEndMb,
    window_s: windowS,
  },
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
  slow.sent > 0 &&
  slow.cut === slow.sent;
console.log(ok ? 'soak: OK' : 'soak: FAIL');
process.exit(ok ? 0 : 1);
