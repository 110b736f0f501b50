/**
 * The schemas a setting's raw text is parsed with (flag, environment variable or default alike),
 * each refusing in words a user reads: what is allowed, said the same way whichever check fails.
 */
import { z } from 'zod';
import { endpointProblem } from '../../kv-events/endpoint.js';

/**
 * What a number setting allows, said the same way whichever check fails (the pattern, the bound):
 * zod's own messages ("Too big: expected number to be <=65535") are for developers.
 */
const range = (kind: 'an integer' | 'a number', min: number, max: number, unbounded: number) =>
  max === unbounded ? `must be ${kind} ≥ ${min}` : `must be ${kind} from ${min} to ${max}`;

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const allowed = range('an integer', min, max, Number.MAX_SAFE_INTEGER);
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, allowed)
    .transform(Number)
    .pipe(z.number({ error: allowed }).int(allowed).min(min, allowed).max(max, allowed));
};

export const num = (
  min: number,
  max = Number.MAX_VALUE,
  allowed = range('a number', min, max, Number.MAX_VALUE),
) => {
  return z
    .string()
    .trim()
    .regex(/^-?(\d+\.?\d*|\.\d+)(e-?\d+)?$/i, allowed)
    .transform(Number)
    .pipe(z.number({ error: allowed }).min(min, allowed).max(max, allowed));
};

/** "must be a or b" / "must be one of a, b, c". */
export const mustBeOneOf = (values: readonly string[]) =>
  values.length === 2 ? `must be ${values[0]} or ${values[1]}` : `must be one of ${values.join(', ')}`;

export const bool = () =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(
      z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], {
        error: 'must be 1 or 0 (or true/false, yes/no, on/off)',
      }),
    )
    .transform((v) => v === '1' || v === 'true' || v === 'yes' || v === 'on');

export const str = () => z.string().trim().min(1, 'must not be empty');

export const oneOfInts = (values: readonly number[]) =>
  z
    .string()
    .trim()
    .transform(Number)
    .refine((v) => values.includes(v), `must be one of ${values.join(', ')}`);

/** A ZeroMQ endpoint vLLM's KV-event publisher accepts (src/kv-events/endpoint.ts). */
export const zmqEndpoint = () =>
  str().superRefine((v, ctx) => {
    const problem = endpointProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(values, { error: mustBeOneOf(values) }));

export const list = () =>
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    )
    .pipe(z.array(z.string()).min(1, 'must name at least one value'));
