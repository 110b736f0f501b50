/**
 * One request must never take the server down: hostile uploads, streams nobody reads and requests
 * held open by faults, against a built nimsim with a small heap (tests/helpers/guarded-server.ts)
 * or, for shutdown, an in-process server. Each asserts the documented answer, that
 * `/v1/health/live` kept answering, that the process stayed up and that memory stayed bounded.
 * Needs `npm run build` (the guarded server runs dist/cli.js).
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { MAX_INJECTED_DELAY_MS } from '../../src/config/settings.js';
import { createLogger } from '../../src/logging.js';
import { startServer } from '../../src/server.js';
import { startGuardedServer, type GuardedServer } from '../helpers/guarded-server.js';
import { parseExposition, sampleValue } from '../helpers/prom-text.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const MIB = 1024 * 1024;
/**
 * The liveness bound: a probe may take at most this much longer than the slowest probe of the same
 * server idle for as long (on a shared, loaded machine an idle probe alone can take hundreds of
 * ms; a blocked event loop adds seconds).
 */
const MAX_PROBE_MS = 100;

/** The slowest `/v1/health/live` answer of `server` over 2 s with nothing else to do. */
async function idleProbeMs(server: GuardedServer): Promise<number> {
  const watch = server.watch();
  await new Promise((r) => setTimeout(r, 2_000));
  return (await watch.stop()).maxProbeMs;
}

interface UploadResult {
  readonly status: number | undefined;
  readonly ms: number;
  /** MiB handed to the socket before the answer (or the error). */
  readonly sentMib: number;
}

/**
 * A chunked upload of `mib` MiB to `path`, sent as fast as the server takes it; resolves with the
 * answer's status once it has arrived (the rest of the upload is then abandoned).
 */
function chunkedUpload(port: number, path: string, mib: number): Promise<UploadResult> {
  const chunk = Buffer.alloc(MIB, 0x61);
  const start = performance.now();
  return new Promise((resolve) => {
    let sent = 0;
    let settled = false;
    const settle = (status: number | undefined) => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve({ status, ms: performance.now() - start, sentMib: sent });
    };
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => settle(res.statusCode));
      res.on('error', () => settle(res.statusCode));
    });
    req.on('error', () => settle(undefined));
    // 1 MiB every 10 ms at most: fast enough to pass the limit within a fraction of a second,
    // paced so that six uploads do not starve this process (whose liveness probe is measured).
    const pump = () => {
      if (settled) return;
      if (sent === mib) return void req.end();
      sent++;
      if (req.write(chunk)) setTimeout(pump, 10);
      else req.once('drain', () => setTimeout(pump, 10));
    };
    pump();
  });
}

async function metricsOf(baseUrl: string) {
  return parseExposition(await (await fetch(`${baseUrl}/metrics`)).text());
}

describe('hostile uploads', () => {
  let server: GuardedServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('answers six parallel 128 MiB chunked uploads with 413 at the limit, memory bounded', async () => {
    // A 1 MiB limit: the server's work is then the first MiB of each upload, so the probe measures
    // whether reading blocks, not how much CPU a loaded machine grants it for 100 MiB of input.
    server = await startGuardedServer(['--max-body-bytes', String(MIB)]);
    const idleMs = await idleProbeMs(server);
    const baseRss = server.rssMb();
    const watch = server.watch();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => chunkedUpload(server!.port, '/v1/chat/completions', 128)),
    );
    const report = await watch.stop();
    for (const r of results) {
      expect(r.status).toBe(413);
      expect(r.ms).toBeLessThan(2_000);
      // The upload stopped near the limit, not at 128 MiB.
      expect(r.sentMib).toBeLessThan(16);
    }
    expect(server.alive()).toBe(true);
    expect(report.failures).toBe(0);
    expect(report.maxProbeMs).toBeLessThan(MAX_PROBE_MS + idleMs);
    // 768 MiB offered; at most the limit per upload is ever held.
    expect(report.peakRssMb - baseRss).toBeLessThan(200);
  }, 60_000);

  it('never reads the body of an unauthenticated request or of an unknown route', async () => {
    server = await startGuardedServer(['--api-key', 'k']);
    const idleMs = await idleProbeMs(server);
    const baseRss = server.rssMb();
    const watch = server.watch();
    const results = await Promise.all([
      chunkedUpload(server.port, '/v1/chat/completions', 256),
      chunkedUpload(server.port, '/v1/completions', 256),
      chunkedUpload(server.port, '/nope', 256),
      chunkedUpload(server.port, '/admin/config', 256),
    ]);
    const report = await watch.stop();
    expect(results.map((r) => r.status)).toEqual([401, 401, 404, 404]);
    for (const r of results) expect(r.ms).toBeLessThan(1_000);
    expect(server.alive()).toBe(true);
    expect(report.failures).toBe(0);
    expect(report.maxProbeMs).toBeLessThan(MAX_PROBE_MS + idleMs);
    expect(report.peakRssMb - baseRss).toBeLessThan(100);
  }, 60_000);
});

describe('streams nobody reads', () => {
  let server: GuardedServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('are aborted past the stream buffer bound, freeing their slots and KV blocks', async () => {
    server = await startGuardedServer();
    const idleMs = await idleProbeMs(server);
    const baseRss = server.rssMb();
    const watch = server.watch();
    const body = JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Write for ever.' }],
      max_tokens: 100_000,
      ignore_eos: true,
      stream: true,
      // Large frames (~3 KB each): the kernel's buffers, then the bound, fill in fewer steps, so
      // the test spends less CPU (which tests running beside it share).
      logprobs: true,
      top_logprobs: 20,
    });
    // Direct writes to the Node response, and (a latency fault wraps the body) the web stream.
    const heads = [
      '',
      '',
      'x-nimsim-fault: slow_first_token\r\nx-nimsim-fault-delay-ms: 0\r\n',
      'x-nimsim-fault: stall\r\nx-nimsim-fault-delay-ms: 0\r\n',
    ];
    const sockets: Socket[] = [];
    const closed: Promise<void>[] = [];
    for (const extra of heads) {
      const socket = connect(server.port, '127.0.0.1');
      socket.setNoDelay(true);
      closed.push(new Promise((resolve) => socket.once('close', () => resolve())));
      socket.on('error', () => {});
      socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${extra}` +
          `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      socket.pause(); // and never read
      sockets.push(socket);
    }
    try {
      // The kernel's socket buffers take a few MiB of each stream first; then the server's
      // buffer fills to the bound and the stream is cut.
      const model = { model_name: MODEL };
      const deadline = performance.now() + 30_000;
      let exp = await metricsOf(server.baseUrl);
      const running = () => sampleValue(exp, 'vllm:num_requests_running', model);
      for (const until of [(n: number) => n === heads.length, (n: number) => n === 0]) {
        while (!until(running()) && performance.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          exp = await metricsOf(server.baseUrl);
        }
      }
      const report = await watch.stop();
      expect(sampleValue(exp, 'vllm:num_requests_running', model)).toBe(0);
      expect(sampleValue(exp, 'vllm:kv_cache_usage_perc', model)).toBe(0);
      // Cut long before the 400,000 tokens asked for.
      expect(sampleValue(exp, 'vllm:generation_tokens_total', model)).toBeLessThan(40_000);
      expect(server.alive()).toBe(true);
      expect(report.failures).toBe(0);
      // At time scale 0 generation takes every cycle it is given, but it pauses every 10 ms
      // (src/serving/pacer.ts), so a probe waits no longer than for the other cases.
      expect(report.maxProbeMs).toBeLessThan(MAX_PROBE_MS + idleMs);
      // Four streams, each held to 1 MiB in the process (the kernel's buffers are not RSS).
      expect(report.peakRssMb - baseRss).toBeLessThan(100);
      // The server closed every connection: reading now gets what was sent, then the end.
      for (const socket of sockets) socket.resume();
      await Promise.race([
        Promise.all(closed),
        new Promise((_, reject) => setTimeout(() => reject(new Error('a connection stayed open')), 5_000)),
      ]);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  }, 60_000);
});

describe('shutdown', () => {
  it('closes requests held by a fault or a rule once the drain deadline has passed', async () => {
    const config = loadConfig(
      {},
      { port: '0', host: '127.0.0.1', timeScale: '0', jitter: '0', adminToken: 'adm' },
    );
    const running = await startServer(
      config,
      createLogger('ERROR', false, () => {}),
    );
    const base = `http://127.0.0.1:${running.port}`;
    const setRules = await fetch(`${base}/admin/config`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer adm', 'content-type': 'application/json' },
      body: JSON.stringify({
        rules: [{ match: { user_contains: 'slowly' }, reply: { latency_ms: MAX_INJECTED_DELAY_MS } }],
      }),
    });
    expect(setRules.status).toBe(200);
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }).then(
        (res) => res.text().then(() => `answered ${res.status}`),
        () => 'connection closed',
      );
    const chat = { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 2 };
    const held = [
      post('/v1/chat/completions', chat, {
        'x-nimsim-fault': 'timeout',
        'x-nimsim-fault-delay-ms': String(MAX_INJECTED_DELAY_MS),
      }),
      post('/v1/chat/completions', { ...chat, messages: [{ role: 'user', content: 'answer slowly' }] }),
      post('/v1/completions', { model: MODEL, prompt: 'answer slowly', max_tokens: 2 }),
    ];
    // All three on their own connections (none finishes), then a moment to reach their waits.
    const connections = () => new Promise<number>((r) => running.server.getConnections((_, n) => r(n)));
    while ((await connections()) < held.length) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    const start = performance.now();
    await running.shutdown(300);
    const tookMs = performance.now() - start;
    // The deadline, the flush allowance after it, and a margin for a loaded machine.
    expect(tookMs).toBeGreaterThanOrEqual(300);
    expect(tookMs).toBeLessThan(1_500);
    expect(await Promise.all(held)).toEqual(['connection closed', 'connection closed', 'connection closed']);
  }, 20_000);
});
