#!/usr/bin/env node
/* global URL, setTimeout, console, process, fetch */
// The container's runtime stage without a Docker engine: package.json, package-lock.json, LICENSE and the
// built dist/ in a clean folder, `npm ci --omit=dev` (production dependencies only), then
// `node dist/cli.js serve` must start, turn ready, answer a chat request and exit 0 on SIGTERM.
// Run after `npm run build`; bounded to 90 s.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = new URL('..', import.meta.url).pathname;
const started = Date.now();
const deadline = setTimeout(() => fail('timed out after 90 s'), 90_000);
deadline.unref();
let child;

function fail(message) {
  console.error(`production install: FAIL: ${message}`);
  child?.kill('SIGKILL');
  process.exit(1);
}

if (!existsSync(join(repo, 'dist/cli.js'))) fail('dist/cli.js is missing: run npm run build first');
const dir = mkdtempSync(join(tmpdir(), 'nimsim-prod-'));
try {
  for (const f of ['package.json', 'package-lock.json', 'LICENSE']) cpSync(join(repo, f), join(dir, f));
  cpSync(join(repo, 'dist'), join(dir, 'dist'), { recursive: true });
  try {
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } catch {
    fail('npm ci --omit=dev failed (is package-lock.json in step with package.json?)');
  }
  for (const devOnly of ['vitest', 'typescript', 'openai']) {
    if (existsSync(join(dir, 'node_modules', devOnly))) fail(`dev dependency ${devOnly} was installed`);
  }
  console.log(
    `production install: npm ci --omit=dev done in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );

  child = spawn(process.execPath, ['dist/cli.js', 'serve', '--port', '0', '--time-scale', '0'], {
    cwd: dir,
    env: { PATH: process.env.PATH, NIMSIM_HOST: '127.0.0.1', NIM_LOG_LEVEL: 'INFO' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    let log = '';
    child.stderr.on('data', (d) => {
      log += d;
      const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${log}`)));
  }).catch((err) => fail(err.message));
  const base = `http://127.0.0.1:${port}`;

  const ready = await fetch(`${base}/v1/health/ready`);
  if (ready.status !== 200) fail(`/v1/health/ready answered ${ready.status}`);
  const chat = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'meta/llama-3.1-8b-instruct',
      messages: [{ role: 'user', content: 'Hello!' }],
      max_tokens: 8,
    }),
  });
  const body = await chat.json();
  if (chat.status !== 200 || typeof body?.choices?.[0]?.message?.content !== 'string') {
    fail(`chat answered ${chat.status}: ${JSON.stringify(body)}`);
  }
  child.kill('SIGTERM');
  const { code, signal } = await exited;
  if (code !== 0) fail(`exit code ${code} (signal ${signal}) after SIGTERM`);
  console.log(
    `production install: OK (ready 200, chat 200 with ${body.usage.completion_tokens} tokens, exit 0 on SIGTERM) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
