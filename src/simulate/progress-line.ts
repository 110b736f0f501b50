/**
 * `simulate`'s progress on a terminal: one line on stderr, rewritten in place, that appears only
 * once a run has taken a few seconds (most take well under one), is rewritten at most a few times
 * a second, and is erased when the run ends, so the terminal keeps only the report. Only for a
 * TTY: piped or redirected stderr gets nothing (the CLI decides; this module just draws).
 */
import type { SimulationProgress } from './harness.js';

export interface ProgressLineOptions {
  /** Where the line goes (stderr). */
  readonly write: (text: string) => void;
  /** Wall clock, ms. */
  readonly now: () => number;
  /** Requests the run will send in all, for "n of total". */
  readonly total: number;
  /** Terminal width: the line is cut to fit, since a wrapped line cannot be rewritten in place. */
  readonly columns?: number | undefined;
  /** Wall time before the first line (ms). */
  readonly delayMs?: number;
  /** Least wall time between two lines (ms). */
  readonly intervalMs?: number;
}

export interface ProgressLine {
  update(progress: SimulationProgress): void;
  /** Erases the line, if one was drawn. */
  clear(): void;
}

/** A run shorter than this prints no progress at all. */
export const PROGRESS_DELAY_MS = 2000;
export const PROGRESS_INTERVAL_MS = 250;

const count = (n: number) => n.toLocaleString('en-US');

/** The text of one progress line. */
export function formatProgress(p: SimulationProgress, total: number, wallMs: number): string {
  const refused = p.rejected > 0 ? `, ${count(p.rejected)} refused (429)` : '';
  return (
    `simulating: ${count(p.completed)}/${count(total)} requests, ` +
    `${(p.simulatedMs / 1000).toFixed(1)} s simulated${refused}; ${Math.round(wallMs / 1000)} s`
  );
}

export function createProgressLine(opts: ProgressLineOptions): ProgressLine {
  const delayMs = opts.delayMs ?? PROGRESS_DELAY_MS;
  const intervalMs = opts.intervalMs ?? PROGRESS_INTERVAL_MS;
  const start = opts.now();
  let lastDrawn = -Infinity;
  let drawn = false;
  return {
    update(progress) {
      const now = opts.now();
      if (now - start < delayMs || now - lastDrawn < intervalMs) return;
      let text = formatProgress(progress, opts.total, now - start);
      if (opts.columns !== undefined && text.length > opts.columns - 1)
        text = text.slice(0, Math.max(0, opts.columns - 2)) + '…';
      // Back to the line's start, the new text, then erase what the previous one left beyond it.
      opts.write(`\r${text}\x1b[K`);
      lastDrawn = now;
      drawn = true;
    },
    clear() {
      if (drawn) opts.write('\r\x1b[K');
      drawn = false;
    },
  };
}
