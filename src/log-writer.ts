/**
 * How log lines reach stderr: the lines of one event-loop turn are joined and written at once, at
 * the end of the turn (setImmediate), instead of one write per line. Node writes stderr
 * synchronously when it is a file or a pipe (the Node docs, "A note on process I/O"), so one
 * access-log line per request was one blocking write(v) syscall per request — about a tenth of the
 * server's CPU under autocannon. Batched, a turn that answers many requests pays one.
 *
 * Nothing is lost on the way out: pending lines are written when the process exits (`exit`, which
 * follows process.exit(), the end of a graceful shutdown and a crash) and before Node reports an
 * uncaught exception or unhandled rejection (`uncaughtExceptionMonitor`: Node 20 happens to emit
 * `exit` before printing the stack trace too, but an `uncaughtException` handler that keeps the
 * process alive skips `exit`), so they come before the crash's stack trace, in order. Only a
 * process killed outright (SIGKILL) loses the current turn's lines.
 */

export interface LineWriter {
  /** Queues one line (without its newline). */
  (line: string): void;
  /** Writes every queued line now. */
  flush(): void;
}

/** Pending text beyond which a turn's lines are written at once rather than at its end. */
export const MAX_PENDING_CHARS = 64 * 1024;

/**
 * A writer that hands `out` the lines of each event-loop turn as one newline-terminated chunk, in
 * the order they were written.
 */
export function createBatchedWriter(out: (chunk: string) => void): LineWriter {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    if (pending === '') return;
    const chunk = pending;
    pending = '';
    out(chunk);
  };
  const onTurnEnd = () => {
    scheduled = false;
    flush();
  };
  const write = (line: string) => {
    pending += line + '\n';
    if (pending.length >= MAX_PENDING_CHARS) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(onTurnEnd);
    }
  };
  write.flush = flush;
  return write;
}

let stderrWriter: LineWriter | undefined;

/** The process's one batched stderr writer, flushed at exit and before a crash report. */
export function stderrLines(): LineWriter {
  if (stderrWriter === undefined) {
    const writer = createBatchedWriter((chunk) => process.stderr.write(chunk));
    process.on('exit', writer.flush);
    process.on('uncaughtExceptionMonitor', writer.flush);
    stderrWriter = writer;
  }
  return stderrWriter;
}
