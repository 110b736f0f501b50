/**
 * A one-line progress display on stderr: redrawn in place on a terminal, a plain line every few
 * seconds otherwise (CI logs), silent when disabled.
 */

export interface Progress {
  /** Sets the completed count (and an optional note, e.g. errors so far). */
  update(done: number, note?: string): void;
  /** Prints the final state and a newline. */
  finish(): void;
}

/** A progress display for `label` counting to `total`. */
export function createProgress(label: string, total: number, enabled = true): Progress {
  const tty = process.stderr.isTTY === true;
  const startMs = Date.now();
  let lastDrawMs = 0;
  let done = 0;
  let note = '';
  const line = () => {
    const width = 24;
    const filled = total > 0 ? Math.round((done / total) * width) : 0;
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const s = ((Date.now() - startMs) / 1000).toFixed(1);
    return `${label} [${bar}] ${done}/${total} ${s}s${note === '' ? '' : ` ${note}`}`;
  };
  const draw = (force: boolean) => {
    if (!enabled) return;
    const now = Date.now();
    if (!force && now - lastDrawMs < (tty ? 200 : 5000)) return;
    lastDrawMs = now;
    process.stderr.write(tty ? `\r${line()}\x1b[K` : `${line()}\n`);
  };
  return {
    update(n, text) {
      done = n;
      if (text !== undefined) note = text;
      draw(false);
    },
    finish() {
      if (!enabled) return;
      if (tty) process.stderr.write(`\r${line()}\x1b[K\n`);
      else process.stderr.write(`${line()}\n`);
    },
  };
}
