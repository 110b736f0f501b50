/**
 * How log lines reach stderr without a syscall per line and without losing any. Node writes each
 * process.stderr.write() at once (the Node docs, "A note on process I/O"), so one access-log line
 * per request was one write syscall per request — about a tenth of the server's main-thread time
 * in a CPU profile under autocannon. And when a pipe's reader is behind, Node queues the rest and process.exit() drops
 * it (5,000 lines to a pipe read 1.5 s late: 304 arrived).
 *
 * - The lines of one event-loop turn are joined and written at its end (setImmediate): one write
 *   per turn, not per line.
 * - A pipe or a terminal (the usual stderr of a container, a shell pipeline, a console) is written
 *   through a non-blocking descriptor of its own (/proc/self/fd/2 opened anew, so the inherited
 *   description keeps its flags): what the reader cannot take now stays queued here, in order, and
 *   is retried a moment later instead of holding up the event loop. Past MAX_BACKLOG_BYTES queued
 *   the writer waits for the reader rather than drop lines.
 * - A regular file takes every write at once and is written directly; a socket (a Node parent's
 *   `stdio: 'pipe'`, journald) goes through process.stderr as before, batched.
 * - Pending lines are written, waiting for the reader as long as needed, when the process exits
 *   (`exit`, which follows process.exit(), the end of a graceful shutdown and a crash) and before
 *   Node reports an uncaught exception or unhandled rejection (`uncaughtExceptionMonitor`), so they
 *   come before the stack trace, in order. Only a process killed outright (SIGKILL) loses what is
 *   queued. A destination that fails (a reader gone away: EPIPE) gets nothing more: the log never
 *   takes the server down.
 */
import { constants, fstatSync, openSync, writevSync } from 'node:fs';

export interface LineWriter {
  /** Queues one line (without its newline). */
  (line: string): void;
  /** Writes every queued line now, waiting for the destination if it must. */
  flush(): void;
}

/** Where the bytes go. */
export interface ByteSink {
  /** Writes what the destination takes now, without waiting; returns the bytes written (0: none). */
  tryWrite(chunks: readonly Buffer[]): number;
  /** Writes all of `chunks`, waiting for the destination as long as it takes. */
  writeAll(chunks: readonly Buffer[]): void;
}

/** Text of one turn beyond which it is written at once rather than at the turn's end. */
export const MAX_PENDING_CHARS = 64 * 1024;
/** Unwritten bytes beyond which the writer waits for the reader rather than queue more. */
export const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;
/** How soon a write the destination did not take is tried again. */
export const RETRY_MS = 2;
/** Queued chunks beyond which they are joined into one (a writev takes at most IOV_MAX = 1024). */
const MAX_CHUNKS = 64;

/** `chunks` without their first `written` bytes (the array is reused). */
function skipBytes(chunks: Buffer[], written: number): Buffer[] {
  let skip = written;
  while (chunks.length > 0 && skip >= chunks[0]!.length) skip -= chunks.shift()!.length;
  if (chunks.length > 0 && skip > 0) chunks[0] = chunks[0]!.subarray(skip);
  return chunks;
}

const total = (chunks: readonly Buffer[]) => chunks.reduce((a, c) => a + c.length, 0);

/**
 * A writer that hands `sink` the lines of each event-loop turn in one write, in the order they
 * were written, keeping what the sink does not take for later.
 */
export function createBatchedWriter(sink: ByteSink): LineWriter {
  let pending = '';
  let scheduled = false;
  /** Bytes of earlier turns the sink has not taken yet, oldest first. */
  let backlog: Buffer[] = [];
  let backlogBytes = 0;
  let retry: NodeJS.Timeout | undefined;

  /** The backlog and this turn's lines, oldest first; both are left empty. */
  const take = (): Buffer[] => {
    if (pending !== '') {
      backlog.push(Buffer.from(pending));
      pending = '';
    }
    const chunks = backlog.length > MAX_CHUNKS ? [Buffer.concat(backlog)] : backlog;
    backlog = [];
    backlogBytes = 0;
    return chunks;
  };

  const drain = () => {
    if (retry !== undefined) {
      clearTimeout(retry);
      retry = undefined;
    }
    const chunks = take();
    if (chunks.length === 0) return;
    backlog = skipBytes(chunks, sink.tryWrite(chunks));
    backlogBytes = total(backlog);
    if (backlogBytes === 0) return;
    if (backlogBytes > MAX_BACKLOG_BYTES) {
      // The reader is far behind: wait for it rather than hold more (or drop lines).
      sink.writeAll(take());
      return;
    }
    retry = setTimeout(drain, RETRY_MS);
    // A pending retry does not keep the process alive: `exit` writes what is left.
    retry.unref();
  };

  const onTurnEnd = () => {
    scheduled = false;
    drain();
  };

  const write = (line: string) => {
    pending += line + '\n';
    if (pending.length >= MAX_PENDING_CHARS) drain();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(onTurnEnd);
    }
  };
  write.flush = () => {
    if (retry !== undefined) {
      clearTimeout(retry);
      retry = undefined;
    }
    const chunks = take();
    if (chunks.length > 0) sink.writeAll(chunks);
  };
  return write;
}

/** Sleeps the thread for `ms` (only while waiting for a reader at exit or past the backlog bound). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Writes to `fd`; `nonBlocking` is a descriptor of the same pipe or terminal with O_NONBLOCK, or
 * undefined to write `fd` directly (a regular file never makes the writer wait for a reader).
 */
export function fdSink(fd: number, nonBlocking: number | undefined): ByteSink {
  const writeOnce = (chunks: readonly Buffer[]): number => {
    try {
      return writevSync(nonBlocking ?? fd, chunks as Buffer[]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return 0;
      // EPIPE (nobody reads any more) or worse: there is no one to give these lines to.
      return total(chunks);
    }
  };
  return {
    tryWrite: writeOnce,
    writeAll(chunks) {
      let left = chunks.filter((c) => c.length > 0);
      while (left.length > 0) {
        const n = writeOnce(left);
        if (n === 0) sleepSync(1);
        else left = skipBytes(left, n);
      }
    },
  };
}

/** Through a Node stream (process.stderr for a socket): it queues what the socket cannot take. */
export function streamSink(stream: NodeJS.WritableStream): ByteSink {
  const write = (chunks: readonly Buffer[]) => {
    stream.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    return total(chunks);
  };
  return { tryWrite: write, writeAll: write };
}

/**
 * The sink for stderr: a non-blocking descriptor of its own for a pipe or a terminal (Linux /proc),
 * fd 2 itself for a regular file, process.stderr otherwise.
 */
function stderrSink(): ByteSink {
  try {
    const st = fstatSync(2);
    if (st.isFile()) return fdSink(2, undefined);
    if (st.isFIFO() || st.isCharacterDevice())
      return fdSink(2, openSync('/proc/self/fd/2', constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // no /proc (not Linux), or stderr closed: Node's own stream
  }
  return streamSink(process.stderr);
}

let stderrWriter: LineWriter | undefined;

/** The process's one batched stderr writer, flushed at exit and before a crash report. */
export function stderrLines(): LineWriter {
  if (stderrWriter === undefined) {
    const writer = createBatchedWriter(stderrSink());
    process.on('exit', writer.flush);
    process.on('uncaughtExceptionMonitor', writer.flush);
    stderrWriter = writer;
  }
  return stderrWriter;
}
