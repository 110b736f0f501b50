/**
 * Soak: a nimsim child process held at saturation for a bounded time (default 10 minutes), with
 * the traffic that leaks when something is wrong — streams read to the end, streams aborted
 * mid-way, multi-turn prompts that reuse and evict KV blocks, injected faults (status, dropped
 * connections, stalls). Reports the server's RSS after warm-up and at the end (medians of a
 * window, sampled every 5 s), and whether running requests and KV blocks in use went back to zero.
 * Exits 1 if RSS grew 10 % or more, or anything was left running.
 *
 *   npx tsx load-tests/soak.ts                      # 600 s, concurrency 128
 *   npx tsx load-tests/soak.ts --duration-s 150     # a shortened run
 *
 * Targets only 127.0.0.1; stops by itself (duration capped at one hour).
 */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
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

const t0 = Date.now();
const samples: { t_s: number; rss_mb: number }[] = [];
const sampler = setInterval(() => {
  void rssBytes().then((b) =>
    samples.push({ t_s: Math.round((Date.now() - t0) / 1000), rss_mb: +(b / 2 ** 20).toFixed(1) }),
  );
}, 5_000);
const rssAtLaunch = await rssBytes();

await Promise.all(Array.from({ length: concurrency }, (_, i) => user(i)));
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
  after.blocksInUse === 0;
console.log(ok ? 'soak: OK' : 'soak: FAIL');
process.exit(ok ? 0 : 1);
