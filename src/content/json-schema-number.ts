/**
 * Numbers for the JSON Schema generator: a value on the grid of `multipleOf` (or of 1 for
 * integers, 0.01 for numbers) between the bounds (draft-4 boolean and later numeric exclusive
 * forms), modest (0–100) where the bounds allow; off the grid, the middle or the edges. The plan
 * of each schema object (bounds, grid) is made once.
 */
import { JsonSchemaError } from './json-schema-shape.js';
import type { Random } from '../util/random.js';

interface NumberPlan {
  readonly lo: number;
  readonly hi: number;
  readonly loOpen: boolean;
  readonly hiOpen: boolean;
  readonly step: number;
  readonly unit: number;
  readonly kLo: number;
  readonly kHi: number;
  readonly multipleOf: boolean;
  /** The first value of the grid that satisfies the bounds, found once (null: none). */
  fallback?: number | null;
}

/** The generator of integer (`integer` true) and number values. */
export function createNumberGenerator(
  rng: Random,
): (schema: Record<string, unknown>, integer: boolean, where: string) => number {
  const numberPlans = {
    integer: new WeakMap<object, NumberPlan>(),
    number: new WeakMap<object, NumberPlan>(),
  };

  const numberPlan = (schema: Record<string, unknown>, integer: boolean, where: string): NumberPlan => {
    const plans = integer ? numberPlans.integer : numberPlans.number;
    let plan = plans.get(schema);
    if (plan !== undefined) return plan;
    let lo = -Infinity;
    let hi = Infinity;
    let loOpen = false;
    let hiOpen = false;
    const num = (k: string) => (typeof schema[k] === 'number' ? (schema[k] as number) : undefined);
    const minimum = num('minimum');
    const maximum = num('maximum');
    if (minimum !== undefined) {
      lo = minimum;
      loOpen = schema['exclusiveMinimum'] === true;
    }
    if (maximum !== undefined) {
      hi = maximum;
      hiOpen = schema['exclusiveMaximum'] === true;
    }
    const exMin = num('exclusiveMinimum');
    const exMax = num('exclusiveMaximum');
    if (exMin !== undefined && exMin >= lo) [lo, loOpen] = [exMin, true];
    if (exMax !== undefined && exMax <= hi) [hi, hiOpen] = [exMax, true];
    // A model picks modest numbers: 0–100 unless the bounds say otherwise (a span that stays a
    // span next to huge bounds, where adding 100 changes nothing).
    const span = (bound: number) => Math.max(100, Math.abs(bound) * 2 ** -40);
    if (lo === -Infinity) lo = hi === Infinity ? 0 : Math.min(0, hi - span(hi));
    if (hi === Infinity) hi = lo + span(lo);
    const step = num('multipleOf') ?? (integer ? 1 : 0.01);
    if (step <= 0) throw new JsonSchemaError(`${where}: multipleOf must be positive`);
    const unit = integer ? lcmStep(step) : step;
    plan = {
      lo,
      hi,
      loOpen,
      hiOpen,
      step,
      unit,
      kLo: Math.ceil(lo / unit),
      kHi: Math.floor(hi / unit),
      multipleOf: schema['multipleOf'] !== undefined,
    };
    plans.set(schema, plan);
    return plan;
  };

  return (schema: Record<string, unknown>, integer: boolean, where: string): number => {
    const plan = numberPlan(schema, integer, where);
    const { lo, hi, loOpen, hiOpen, step, unit, kLo, kHi } = plan;
    const ok = (v: number) =>
      Number.isFinite(v) &&
      (loOpen ? v > lo : v >= lo) &&
      (hiOpen ? v < hi : v <= hi) &&
      (!integer || Number.isInteger(v)) &&
      (!plan.multipleOf || Number.isInteger(v / step));
    // The grid of multiples is only usable while its indexes are exact integers.
    if (
      Number.isFinite(kLo) &&
      Number.isFinite(kHi) &&
      kHi >= kLo &&
      Math.abs(kLo) <= Number.MAX_SAFE_INTEGER
    ) {
      const span = kHi - kLo;
      for (let attempt = 0; attempt < 20; attempt++) {
        const k = kLo + (span > 2 ** 31 ? rng.nextInt(2 ** 31) : rng.nextInt(span + 1));
        const v = roundLike(k * unit, unit);
        if (ok(v)) return v;
      }
      if (plan.fallback === undefined) {
        plan.fallback = null;
        for (let i = 0; i <= 1000 && kLo + i <= kHi; i++) {
          const v = roundLike((kLo + i) * unit, unit);
          if (ok(v)) {
            plan.fallback = v;
            break;
          }
        }
      }
      if (plan.fallback !== null) return plan.fallback;
    }
    // Off the grid (bounds closer than a step, or beyond 2^53 where every double is an integer and
    // grid indexes are inexact): the middle, the bounds, and the doubles just inside them.
    const candidates = [lo / 2 + hi / 2, lo, hi, lo + Math.abs(lo) * 2 ** -52, hi - Math.abs(hi) * 2 ** -52];
    if (!plan.multipleOf || !Number.isFinite(kLo)) {
      for (const v of candidates) if (ok(v)) return v;
    }
    throw new JsonSchemaError(`${where}: no ${integer ? 'integer' : 'number'} satisfies the bounds`);
  };
}

/** For integers, a step that keeps values whole: a fractional multipleOf is scaled up. */
function lcmStep(step: number): number {
  if (Number.isInteger(step)) return step;
  for (let k = 2; k <= 1000; k++)
    if (Number.isInteger(roundLike(step * k, 1e-9))) return roundLike(step * k, 1);
  return Math.ceil(step);
}

/** Rounds `value` to as many decimals as `unit` has, removing float noise (0.1 * 3). */
function roundLike(value: number, unit: number): number {
  if (Number.isInteger(unit) && Number.isSafeInteger(value)) return value;
  const decimals = Math.min(12, Math.max(0, -Math.floor(Math.log10(Math.abs(unit))) + 2));
  return Number(value.toFixed(decimals));
}
