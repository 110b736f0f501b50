/**
 * `serve` listens with a backlog of 2,048 (uvicorn's, as NIM's API server): with the server
 * stopped (SIGSTOP, so it accepts nothing) the kernel still completes that many handshakes into the
 * accept queue. With Node's default of 511, the 513th connection's SYN was dropped and retried a
 * second later, which delayed a burst of 2,000 streams by up to ~18 s.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../load-tests/lib/child-server.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const CONNECTIONS = 1500;

describe('listen backlog', () => {
  it('holds 1,500 connections in the accept queue while the server accepts none', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port), '--log-level', 'ERROR'], {
      stdio: 'ignore',
    });
    const sockets: net.Socket[] = [];
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
      child.kill('SIGSTOP');
      let connected = 0;
      for (let i = 0; i < CONNECTIONS; i++) {
        const s = net.connect(port, '127.0.0.1', () => connected++);
        s.on('error', () => {});
        sockets.push(s);
      }
      // Less than the 1 s after which a client retries a dropped SYN.
      await new Promise((r) => setTimeout(r, 700));
      expect(connected).toBe(CONNECTIONS);
    } finally {
      for (const s of sockets) s.destroy();
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });
});
