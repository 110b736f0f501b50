/**
 * What the per-type writers of the JSON Schema generator (json-schema-object.ts, -array.ts,
 * -string.ts, -number.ts) share: the seeded random source, the budgeted writer, the string
 * formats and the dispatcher they recurse through for nested values (json-schema-generator.ts).
 */
import type { StringFormats } from './json-schema-formats.js';
import type { Schema } from './json-schema-shape.js';
import type { Writer } from './json-schema-writer.js';
import type { Random } from '../util/random.js';

/** Past this depth, generation keeps to required properties, minimum items and non-$ref branches. */
export const SHALLOW_DEPTH = 5;

export interface GenerationContext {
  readonly rng: Random;
  readonly out: Writer;
  readonly strings: StringFormats;
  /** Writes a value for `schema` at `depth` (`where` is its JSON Pointer, for errors). */
  readonly value: (schema: Schema, depth: number, where: string) => void;
}

/** True with probability `p` (one draw). */
export const chance = (rng: Random, p: number): boolean => rng.nextFloat() < p;

/** An integer in [lo, hi] (one draw). */
export const randomInt = (rng: Random, lo: number, hi: number): number => lo + rng.nextInt(hi - lo + 1);

/** One of `items` (one draw). */
export const pick = <T>(rng: Random, items: readonly T[]): T => items[rng.nextInt(items.length)]!;
