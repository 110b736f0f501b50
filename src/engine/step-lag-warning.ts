/**
 * A log warning when the host cannot keep up with the simulated schedule: the engine measures, at
 * each step, how late the real clock fired it (`StepRecord.lagMs`, the gauge
 * `nimsim_engine_step_lag_seconds`). A step later than the threshold counts as late; the first
 * late step logs one WARNING, and later ones at most one per interval, each saying the lag, the
 * worst lag and how many steps were late since the previous warning. A log line per late step would
 * flood the log exactly when the process is short of time.
 *
 * The engine stays free of logging: the warning goes to an injected function.
 */
import type { EngineObserver, StepRecord } from './engine.js';

/**
 * Lag (simulated ms) past which a step is late: the same 50 ms as the NimsimEngineLagging alert
 * (prometheus/alerts.yml). The engine still makes up a debt of up to its catch-up bound (engine.ts
 * MAX_CATCH_UP_MS); beyond it, it re-anchors its timeline and the lost time is not made up.
 */
export const STEP_LAG_WARNING_MS = 50;

/** Least time between two warnings (ms of the `now` the warner is given). */
export const STEP_LAG_WARNING_INTERVAL_MS = 30_000;

export interface StepLagWarningOptions {
  /** Where the warning goes (the logger's warn). */
  readonly warn: (message: string, fields: Record<string, number>) => void;
  /** The clock the rate limit runs on, in ms: wall time in `serve`. */
  readonly now: () => number;
  readonly thresholdMs?: number;
  readonly intervalMs?: number;
}

export function createStepLagWarning(opts: StepLagWarningOptions): EngineObserver {
  const thresholdMs = opts.thresholdMs ?? STEP_LAG_WARNING_MS;
  const intervalMs = opts.intervalMs ?? STEP_LAG_WARNING_INTERVAL_MS;
  let lastWarningAt = -Infinity;
  let lateSteps = 0;
  let maxLagMs = 0;
  return {
    onStep(step: StepRecord) {
      if (!(step.lagMs > thresholdMs)) return;
      lateSteps++;
      maxLagMs = Math.max(maxLagMs, step.lagMs);
      const now = opts.now();
      if (now - lastWarningAt < intervalMs) return;
      const round = (ms: number) => Math.round(ms * 10) / 10;
      opts.warn(
        `engine steps are running late: the host cannot keep up with the simulated schedule ` +
          `(a step ${round(step.lagMs)} ms late; ${lateSteps} step(s) over ${thresholdMs} ms since the last ` +
          `warning, the worst ${round(maxLagMs)} ms); lower the load or the time scale`,
        {
          lag_ms: round(step.lagMs),
          max_lag_ms: round(maxLagMs),
          late_steps: lateSteps,
          threshold_ms: thresholdMs,
        },
      );
      lastWarningAt = now;
      lateSteps = 0;
      maxLagMs = 0;
    },
  };
}
