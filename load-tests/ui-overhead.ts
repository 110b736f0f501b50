/**
 * What an open live page (GET /ui) costs the server: the same nimsim, in one run, with and without
 * a client of its event stream (GET /ui/events, what the page reads), in alternating windows.
 *
 *   npm run build && npx tsx load-tests/ui-overhead.ts [--window 5] [--windows 4]
 *     [--connections 32] [--warmup-requests 5000] [--streams 2000] [--stream-tokens 400]
 *
 * 1. Requests: `serve --time-scale 0` (no simulated waiting: only nimsim's own CPU is left, every
 *    token arrives as fast as the loop allows, the feed's worst case), autocannon sending
 *    load-tests/overhead.ts's non-streaming chat request; windows alternate page closed / page
 *    open. Prints each window's requests/s and the server's CPU µs per request, then the ratio
 *    open ÷ closed of both (means over the windows).
 * 2. Streams (`--streams N`, 0 to skip): `serve --time-scale 1` with max-num-seqs N, N streams
 *    opened at once from this process (each `--stream-tokens` long); while they run, windows
 *    alternate closed / open and give the server's CPU share of a core, its step lag, and how fast
 *    GET /ui answers; with the page open, the largest gap between two frames (4 a second when the
 *    server keeps up).
 * Bounded: 2 × windows × window s per part, plus warm-up and start-up.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import {
  cpuTimeMs,
  freePort,
  LOCALHOST,
  NIMSIM_CLI,
  requireBuild,
  spawnServer,
  type ChildServer,
} from './lib/child-server.js';
import { OVERHEAD_BODY } from './lib/overhead-bench.js';
import { streamRequest } from './lib/sse-client.js';

const { values } = parseArgs({
  options: {
    window: { type: 'string', default: '5' },
    windows: { type: 'string', default: '4' },
    connections: { type: 'string', default: '32' },
    'warmup-requests': { type: 'string', default: '5000' },
    streams: { type: 'string', default: '2000' },
    'stream-tokens': { type: 'string', default: '400' },
  },
  strict: true,
});
const windowS = Number(values.window);
const windows = Number(values.windows);
const streams = Number(values.streams);

/**
 * A client of /ui/events, as the page is: counts frames and bytes and the largest gap between two
 * frames. It runs on a worker thread with its own event loop, so the 2,000 streams this process
 * reads on its main thread do not delay (and so lengthen) the gaps it measures.
 */
const PAGE_CLIENT = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
let frames = 0, bytes = 0, last = 0, maxGapMs = 0;
const req = http.get({ host: workerData.host, port: workerData.port, path: '/ui/events' }, (res) => {
  res.on('data', (chunk) => {
    const now = performance.now();
    const n = chunk.toString('utf8').split('\\n\\n').length - 1;
    if (n > 0) {
      if (frames > 1) maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
      frames += n;
    }
    bytes += chunk.length;
  });
});
req.on('error', () => {});
parentPort.on('message', () => {
  req.destroy();
  parentPort.postMessage({ frames, bytes, maxGapMs });
});
`;

interface PageStats {
  frames: number;
  bytes: number;
  maxGapMs: number;
}

function openPage(port: number) {
  const worker = new Worker(PAGE_CLIENT, { eval: true, workerData: { host: LOCALHOST, port } });
  return {
    /** Closes the page and gives what it saw. */
    async close(): Promise<PageStats> {
      const stats = new Promise<PageStats>((resolve) => worker.once('message', resolve));
      worker.postMessage('close');
      const result = await stats;
      await worker.terminate();
      return result;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const nimsim = (port: number, args: string[]) =>
  spawnServer({
    name: 'nimsim',
    port,
    nodeArgs: [NIMSIM_CLI, 'serve', '--port', String(port), '--log-level', 'WARNING', ...args],
    readyPath: '/v1/health/ready',
  });

async function requestsPart(): Promise<void> {
  const port = await freePort();
  const server = await nimsim(port, ['--time-scale', '0']);
  const load = async (length: { duration: number } | { amount: number }) => {
    const cpu0 = cpuTimeMs(server.pid)!;
    const r = await autocannon({
      url: `http://${LOCALHOST}:${port}/v1/chat/completions`,
      connections: Number(values.connections),
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: OVERHEAD_BODY,
      ...length,
    });
    const cpu = cpuTimeMs(server.pid)! - cpu0;
    return { rate: r['2xx'] / r.duration, cpuUs: (cpu * 1000) / Math.max(1, r['2xx']) };
  };
  try {
    await load({ amount: Number(values['warmup-requests']) });
    process.stdout.write(
      `1. non-streaming chat, --time-scale 0, ${values.connections} connections, ${windows} windows of ${windowS} s each way\n\n` +
        'window  page    req/s  server µs/req  frames  KB/s\n',
    );
    const closed: { rate: number; cpuUs: number }[] = [];
    const open: { rate: number; cpuUs: number }[] = [];
    for (let w = 1; w <= windows; w++) {
      const c = await load({ duration: windowS });
      closed.push(c);
      process.stdout.write(
        `${String(w).padEnd(8)}closed ${c.rate.toFixed(0).padStart(6)} ${c.cpuUs.toFixed(0).padStart(14)}\n`,
      );
      const page = openPage(port);
      await sleep(300);
      const o = await load({ duration: windowS });
      const s = await page.close();
      open.push(o);
      process.stdout.write(
        `${String(w).padEnd(8)}open   ${o.rate.toFixed(0).padStart(6)} ${o.cpuUs.toFixed(0).padStart(14)} ${String(s.frames).padStart(7)} ${(s.bytes / 1024 / windowS).toFixed(1).padStart(5)}\n`,
      );
    }
    const rate = mean(open.map((x) => x.rate)) / mean(closed.map((x) => x.rate));
    const cpu = mean(open.map((x) => x.cpuUs)) / mean(closed.map((x) => x.cpuUs));
    process.stdout.write(
      `\nrequests/s with the page open ÷ closed: ${rate.toFixed(3)}; server CPU per request open ÷ closed: ${cpu.toFixed(3)}\n\n`,
    );
  } finally {
    await server.stop();
  }
}

async function streamsPart(): Promise<void> {
  const port = await freePort();
  const n = String(Math.max(streams, 256));
  const server: ChildServer = await nimsim(port, [
    '--time-scale',
    '1',
    '--max-num-seqs',
    n,
    '--max-waiting',
    n,
    '--kv-cache-blocks',
    '200000',
  ]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const body = JSON.stringify({
    model: 'meta/llama-3.1-8b-instruct',
    messages: [{ role: 'user', content: 'Tell me a long story about GPUs.' }],
    max_tokens: Number(values['stream-tokens']),
    ignore_eos: true,
    stream: true,
  });
  const all = Array.from({ length: streams }, () =>
    streamRequest({ host: LOCALHOST, port, path: '/v1/chat/completions', body, agent, timeoutMs: 300_000 }),
  );
  const running = async () => {
    const text = await (await fetch(`http://${LOCALHOST}:${port}/metrics`)).text();
    const value = (name: string) =>
      Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
    return { running: value('num_requests_running'), lagMs: value('nimsim_engine_step_lag_seconds') * 1000 };
  };
  try {
    // Until every stream runs in the batch.
    const deadline = Date.now() + 60_000;
    while ((await running()).running < streams && Date.now() < deadline) await sleep(250);
    process.stdout.write(
      `2. ${streams} streams at --time-scale 1 (${(await running()).running} running), ${windows} windows of ${windowS} s each way\n\n` +
        'window  page    server CPU  step lag ms  GET /ui ms  frames  max frame gap ms\n',
    );
    const cpu: Record<'closed' | 'open', number[]> = { closed: [], open: [] };
    for (let w = 1; w <= windows; w++) {
      for (const mode of ['closed', 'open'] as const) {
        const page = mode === 'open' ? openPage(port) : undefined;
        const cpu0 = cpuTimeMs(server.pid)!;
        const t0 = performance.now();
        await sleep(windowS * 1000);
        const share = (cpuTimeMs(server.pid)! - cpu0) / (performance.now() - t0);
        const u0 = performance.now();
        await (await fetch(`http://${LOCALHOST}:${port}/ui`)).text();
        const uiMs = performance.now() - u0;
        const { lagMs } = await running();
        cpu[mode].push(share);
        const s = await page?.close();
        process.stdout.write(
          `${String(w).padEnd(8)}${mode.padEnd(7)} ${(share * 100).toFixed(0).padStart(9)} % ${lagMs.toFixed(1).padStart(12)} ${uiMs.toFixed(0).padStart(11)} ${s ? String(s.frames).padStart(7) : '      –'} ${s ? s.maxGapMs.toFixed(0).padStart(17) : '                –'}\n`,
        );
      }
    }
    process.stdout.write(
      `\nserver CPU with the page open ÷ closed, ${streams} streams: ${(mean(cpu.open) / mean(cpu.closed)).toFixed(3)}\n`,
    );
  } finally {
    await server.stop(2000);
    await Promise.allSettled(all);
    agent.destroy();
  }
}

requireBuild();
await requestsPart();
if (streams > 0) await streamsPart();
