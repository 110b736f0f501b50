/**
 * The batched stderr log (src/log-writer.ts) in real processes whose stderr is a pipe: every line
 * reaches it, in order, whether the process exits on its own, calls process.exit() or crashes while
 * the pipe's reader lags; a reader that does not read does not hold up the event loop; and a served
 * request's access-log line is written before shutdown ends.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../load-tests/lib/child-server.js';

const LOGGING = fileURLToPath(new URL('../../dist/logging.js', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/**
 * Runs `ending` after logging `lines` numbered INFO lines (~250 bytes each) through the default
 * logger in one turn (a timer callback), with stderr a pipe whose reader (cat, through bash's
 * process substitution) starts `readerDelayS` later; stdout gets how many writev calls were made.
 */
function logThen(ending: string, lines: number, readerDelayS = 0) {
  const script =
    // Count the writes (the builtin's ESM exports follow the patched CommonJS ones).
    `import fs from 'node:fs'; import { syncBuiltinESMExports } from 'node:module';\n` +
    `let writes = 0;\n` +
    `const writev = fs.writevSync;\n` +
    `fs.writevSync = (...args) => (writes++, writev(...args));\n` +
    `syncBuiltinESMExports();\n` +
    `process.on('exit', () => process.stdout.write(String(writes)));\n` +
    `const { createLogger } = await import(${JSON.stringify(LOGGING)});\n` +
    `const log = createLogger('INFO', true);\n` +
    `const pad = 'p'.repeat(200);\n` +
    // In a timer callback, so that a throw is an uncaught exception of a turn whose lines are pending.
    `setTimeout(() => {\n` +
    `  for (let i = 0; i < ${lines}; i++) log.info('line ' + i, { i, pad });\n` +
    `  ${ending}\n` +
    `}, 0);\n`;
  return spawnSync(
    'bash',
    ['-c', `"$NODE" --input-type=module -e "$SCRIPT" 2> >(sleep ${readerDelayS}; cat >&2)`],
    {
      encoding: 'utf8',
      timeout: 20_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NODE: process.execPath, SCRIPT: script },
    },
  );
}

/** The `i` field of each JSON log line in `stderr`, in order. */
const numbers = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { i: number }).i);

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

/** More than a pipe holds (64 KiB) at ~250 bytes a line. */
const MANY = 5000;

describe('batched stderr log', () => {
  it("writes every line in order when the process ends on its own, the turn's lines in one write", () => {
    const r = logThen('', 200);
    expect(r.status).toBe(0);
    expect(numbers(r.stderr)).toEqual(upTo(200));
    expect(r.stdout).toBe('1');
  });

  // Node's own process.stderr drops what a lagging pipe reader has not taken at process.exit()
  // (304 of these 5,000 lines arrived); these wait for the reader.
  it("writes every line when process.exit() is called while the pipe's reader lags", () => {
    const r = logThen('process.exit(3);', MANY, 1);
    expect(r.status).toBe(3);
    expect(numbers(r.stderr)).toEqual(upTo(MANY));
  });

  it('writes every line before the stack trace of an uncaught exception', () => {
    const r = logThen("throw new Error('boom');", MANY, 1);
    expect(r.status).toBe(1);
    expect(numbers(r.stderr)).toEqual(upTo(MANY));
    expect(r.stderr.indexOf(`"line ${MANY - 1}"`)).toBeLessThan(r.stderr.indexOf('Error: boom'));
  });

  it('writes every line before the report of an unhandled rejection', () => {
    const r = logThen("Promise.reject(new Error('rejected'));", MANY, 1);
    expect(r.status).toBe(1);
    expect(numbers(r.stderr)).toEqual(upTo(MANY));
    expect(r.stderr.indexOf(`"line ${MANY - 1}"`)).toBeLessThan(r.stderr.indexOf('Error: rejected'));
  });

  it("does not hold up the event loop while a pipe's reader does not read, and loses nothing", async () => {
    // 5,000 lines of ~300 bytes, 50 per turn: far more than a pipe holds (64 KiB), written to a pipe
    // whose reader (cat, through bash's process substitution) starts 1.5 s later. stdout gets the
    // longest gap between the child's turns.
    const script =
      `const { createLogger } = await import(${JSON.stringify(LOGGING)});\n` +
      `const log = createLogger('INFO', true);\n` +
      `const pad = 'p'.repeat(200);\n` +
      `let i = 0, maxGap = 0, last = performance.now();\n` +
      `const turn = () => {\n` +
      `  const now = performance.now(); maxGap = Math.max(maxGap, now - last); last = now;\n` +
      `  for (let k = 0; k < 50; k++) log.info('line ' + i, { i: i++, pad });\n` +
      `  if (i < 5000) setImmediate(turn); else process.stdout.write(String(Math.round(maxGap)));\n` +
      `};\n` +
      `turn();\n`;
    const child = spawn('bash', ['-c', '"$NODE" --input-type=module -e "$SCRIPT" 2> >(sleep 1.5; cat >&2)'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE: process.execPath, SCRIPT: script },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise((r) => child.stderr.once('end', r));
    expect(await exited).toBe(0);
    expect(numbers(stderr)).toEqual(upTo(5000));
    // A blocking write would have held the loop until the reader started, 1.5 s.
    expect(Number(stdout)).toBeLessThan(500);
  });

  it("serve: a request's access-log line, then the shutdown lines, all on stderr after SIGTERM", async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--port',
        String(port),
        '--time-scale',
        '0',
        '--log-level',
        'INFO',
        '--jsonl-logging',
        '1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; ; i++) {
        try {
          if ((await fetch(`http://127.0.0.1:${port}/v1/health/ready`)).status === 200) break;
        } catch {
          // not listening yet
        }
        if (i > 200) throw new Error('nimsim did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'meta/llama-3.1-8b-instruct',
          messages: [{ role: 'user', content: 'hi' }],
          max_tokens: 3,
        }),
      });
      expect(res.status).toBe(200);
      await res.text();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    const messages = stderr
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { message: string }).message);
    expect(messages.slice(-4)).toEqual([
      'POST /v1/chat/completions 200',
      'received SIGTERM',
      'shutting down: draining running requests',
      'shutdown complete',
    ]);
  });
});
