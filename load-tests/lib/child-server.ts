/**
 * Servers under test run as child processes so that the load generator never shares their event
 * loop. Helpers here pick a free port, spawn a server, wait for it to answer, sample its memory and
 * stop it by its own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (load-tests/lib/../..). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The built CLI; the scripts measure the compiled server, as `npm start` runs it. */
export const NIMSIM_CLI = join(REPO_ROOT, 'dist', 'cli.js');

export const LOCALHOST = '127.0.0.1';

/** Exits with a hint when `dist/` has not been built. */
export function requireBuild(): void {
  if (!existsSync(NIMSIM_CLI)) {
    process.stderr.write('dist/cli.js is missing: run `npm run build` first\n');
    process.exit(2);
  }
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, LOCALHOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface ChildServer {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  readonly process: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns `node <args>` and resolves once `GET readyPath` answers 200 (polling every 100 ms, up to
 * `timeoutMs`). The child's stderr is passed through so a crash is visible.
 */
export async function spawnServer(opts: {
  name: string;
  port: number;
  nodeArgs: readonly string[];
  readyPath: string;
  timeoutMs?: number;
  /**
   * Receives the child's stderr instead of this process's stderr: a pipe, as a container runtime
   * gives a server, for runs whose log volume is part of what is measured.
   */
  onStderr?: (chunk: Buffer) => void;
}): Promise<ChildServer> {
  const child = spawn(process.execPath, opts.nodeArgs, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', opts.onStderr ? 'pipe' : 'inherit'],
  });
  if (opts.onStderr) child.stderr?.on('data', opts.onStderr);
  if (child.pid === undefined) throw new Error(`${opts.name}: spawn failed`);
  const pid = child.pid;
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const server: ChildServer = {
    name: opts.name,
    port: opts.port,
    pid,
    process: child,
    async stop(graceMs = 5000) {
      if (exited) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitedPromise;
      clearTimeout(killer);
    },
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${opts.name} exited before it was ready (code ${child.exitCode})`);
    try {
      const res = await fetch(`http://${LOCALHOST}:${opts.port}${opts.readyPath}`);
      await res.arrayBuffer();
      if (res.status === 200) return server;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await server.stop();
  throw new Error(`${opts.name} was not ready within ${opts.timeoutMs ?? 20_000} ms`);
}

/**
 * CPU time (user + system) a live process has used so far, in ms, from /proc/<pid>/stat (Linux
 * only; clock ticks of 10 ms); undefined where /proc is unavailable.
 */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state, field 3; utime and stime
    // are fields 14 and 15 (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/**
 * `cpuTimeMs` split into user (the process's own code: JavaScript, V8, libuv) and system (the
 * kernel working for it: socket writes, epoll), in ms; undefined where /proc is unavailable.
 */
export function cpuTimesMs(pid: number): { userMs: number; systemMs: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      userMs: (Number(fields[11]) * 1000) / CLOCK_TICKS_PER_S,
      systemMs: (Number(fields[12]) * 1000) / CLOCK_TICKS_PER_S,
    };
  } catch {
    return undefined;
  }
}

/** USER_HZ, which Linux fixes at 100 for what /proc reports. */
const CLOCK_TICKS_PER_S = 100;

/**
 * Peak resident set of a live process in KiB, from /proc/<pid>/status (VmHWM; Linux only);
 * undefined where /proc is unavailable.
 */
export function peakRssKb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
