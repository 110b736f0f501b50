/**
 * `a at x to b at y (highest c at z)`: how a value moved across the levels of a sweep, naming a
 * peak or a trough in between, which "from first to last" alone would hide (a sweep's TTFT can
 * peak at c=16 and be lower at c=64).
 */
import { num } from './report.js';

export interface TrendPoint {
  /** How the level is named in the text, e.g. `c=16` or `8/s`. */
  readonly label: string;
  readonly value: number;
}

/** The trend of `points` (in level order, ≥ 1) with `digits` decimals and `unit` after each. */
export function trendText(points: readonly TrendPoint[], digits: number, unit: string): string {
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const at = (p: TrendPoint) => `${num(p.value, digits)}${unit} at ${p.label}`;
  const max = points.reduce((a, b) => (b.value > a.value ? b : a));
  const min = points.reduce((a, b) => (b.value < a.value ? b : a));
  const extremes: string[] = [];
  if (max !== first && max !== last) extremes.push(`highest ${at(max)}`);
  if (min !== first && min !== last) extremes.push(`lowest ${at(min)}`);
  const text = `${at(first)} to ${at(last)}`;
  return extremes.length === 0 ? text : `${text} (${extremes.join(', ')})`;
}
