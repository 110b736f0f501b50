/**
 * The batched stderr log (src/log-writer.ts) in real processes: every line reaches stderr, in
 * order, whether the process exits on its own, calls process.exit() in the same turn as its last
 * lines, or crashes; and a served request's access-log line is written before shutdown ends.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../load-tests/lib/child-server.js';

const LOGGING = fileURLToPath(new URL('../../dist/logging.js', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/**
 * Runs `ending` after logging 500 numbered INFO lines through the default (stderr) logger in one
 * turn (a timer callback); stdout gets how many times process.stderr.write was called.
 */
function logThen(ending: string) {
  const script =
    `let writes = 0;\n` +
    `const write = process.stderr.write.bind(process.stderr);\n` +
    `process.stderr.write = (...args) => (writes++, write(...args));\n` +
    `process.on('exit', () => process.stdout.write(String(writes)));\n` +
    `const { createLogger } = await import(${JSON.stringify(LOGGING)});\n` +
    `const log = createLogger('INFO', true);\n` +
    // In a timer callback, so that a throw is an uncaught exception of a turn whose lines are pending.
    `setTimeout(() => {\n` +
    `  for (let i = 0; i < 500; i++) log.info('line ' + i, { i });\n` +
    `  ${ending}\n` +
    `}, 0);\n`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });
}

/** The `i` field of each JSON log line in `stderr`, in order. */
const numbers = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => (JSON.parse(l) as { i: number }).i);

const ALL = Array.from({ length: 500 }, (_, i) => i);

describe('batched stderr log', () => {
  it("writes every line in order when the process ends on its own, the turn's lines in one write", () => {
    const r = logThen('');
    expect(r.status).toBe(0);
    expect(numbers(r.stderr)).toEqual(ALL);
    expect(r.stdout).toBe('1');
  });

  it('writes the lines of the last turn when process.exit() is called in it', () => {
    const r = logThen('process.exit(3);');
    expect(r.status).toBe(3);
    expect(numbers(r.stderr)).toEqual(ALL);
  });

  it('writes pending lines before the stack trace of an uncaught exception', () => {
    const r = logThen("throw new Error('boom');");
    expect(r.status).toBe(1);
    expect(numbers(r.stderr)).toEqual(ALL);
    expect(r.stderr.indexOf('line 499')).toBeLessThan(r.stderr.indexOf('Error: boom'));
  });

  it('writes pending lines before the report of an unhandled rejection', () => {
    const r = logThen("Promise.reject(new Error('rejected'));");
    expect(r.status).toBe(1);
    expect(numbers(r.stderr)).toEqual(ALL);
    expect(r.stderr.indexOf('line 499')).toBeLessThan(r.stderr.indexOf('Error: rejected'));
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
