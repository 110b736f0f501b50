/**
 * The JSON Schema generator of one document: the dispatcher that resolves a schema ($ref, allOf,
 * an anyOf / oneOf option) and hands it to the writer of its type (object, array, string, number,
 * const, enum …), and the size measure of the root. Everything derived from a schema object is
 * computed once per object, so each step costs O(1) plus what it writes.
 */
import { pythonJson, pythonNumber } from './python-json.js';
import { chance, pick, SHALLOW_DEPTH, type GenerationContext } from './json-schema-context.js';
import { createArrayWriter } from './json-schema-array.js';
import { createStringFormats } from './json-schema-formats.js';
import { createMinimumMeasure } from './json-schema-minimum.js';
import { createNumberGenerator } from './json-schema-number.js';
import { createObjectPlans, createObjectWriter } from './json-schema-object.js';
import { createSchemaResolver } from './json-schema-resolve.js';
import { inferredType, JsonSchemaError, type Schema } from './json-schema-shape.js';
import { createStringGenerator } from './json-schema-string.js';
import type { Writer } from './json-schema-writer.js';
import type { Random } from '../util/random.js';

const MAX_DEPTH = 32;

export interface SchemaGenerator {
  /** Writes a value for `schema` at `depth`; `where` is its JSON Pointer, for errors. */
  value(schema: Schema, depth: number, where: string): void;
  /** A lower bound on the length of any value of `schema`; 0 when measuring took too long. */
  minimumChars(schema: Schema): number;
}

export function createSchemaGenerator(root: Schema, rng: Random, out: Writer): SchemaGenerator {
  const strings = createStringFormats(rng);
  const writeString = (text: string): void => out.write(JSON.stringify(text));
  const { resolve, branchOf, flatIndexes } = createSchemaResolver(root);
  const constTexts = new WeakMap<object, string>();
  const constText = (schema: Record<string, unknown>): string => {
    let text = constTexts.get(schema);
    if (text === undefined) constTexts.set(schema, (text = pythonJson(schema['const'])));
    return text;
  };

  const value = (input: Schema, depth: number, where: string): void => {
    if (depth > MAX_DEPTH) throw new JsonSchemaError(`${where}: schema nests deeper than ${MAX_DEPTH}`);
    const schema = resolve(input, where, 0);
    if (schema === true) return writeString(strings.word());
    if (schema === false) throw new JsonSchemaError(`${where}: false schema accepts nothing`);
    if ('const' in schema) return out.write(constText(schema));
    if (Array.isArray(schema['enum'])) {
      if (schema['enum'].length === 0) throw new JsonSchemaError(`${where}: empty enum`);
      return out.write(pythonJson(pick(rng, schema['enum'] as unknown[])));
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      const options = schema[key];
      if (Array.isArray(options) && options.length > 0) {
        let indexes: readonly number[] | undefined;
        if (depth >= SHALLOW_DEPTH) indexes = flatIndexes(schema, key);
        const index =
          indexes !== undefined && indexes.length > 0
            ? indexes[rng.nextInt(indexes.length)]!
            : rng.nextInt(options.length);
        return value(branchOf(schema, key, index), depth + 1, `${where}/${key}/${index}`);
      }
    }
    const type = chooseType(schema, where);
    switch (type) {
      case 'object':
        return object(schema, depth, where);
      case 'array':
        return array(schema, depth, where);
      case 'string':
        return writeString(string(schema, where));
      case 'integer':
        return out.write(pythonNumber(number(schema, true, where)));
      case 'number':
        return out.write(pythonNumber(number(schema, false, where)));
      case 'boolean':
        return out.write(chance(rng, 0.5) ? 'true' : 'false');
      case 'null':
        return out.write('null');
      default:
        throw new JsonSchemaError(`${where}: unsupported type ${JSON.stringify(type)}`);
    }
  };

  const nonNullByList = new WeakMap<unknown[], unknown[]>();
  const nonNullTypes = (types: unknown[]): unknown[] => {
    let list = nonNullByList.get(types);
    if (list === undefined) nonNullByList.set(types, (list = types.filter((t) => t !== 'null')));
    return list;
  };
  const chooseType = (schema: Record<string, unknown>, where: string): unknown => {
    const type = schema['type'];
    if (Array.isArray(type)) {
      if (type.length === 0) throw new JsonSchemaError(`${where}: empty type list`);
      // Prefer a real value over null, as a model usually does.
      const nonNull = nonNullTypes(type);
      return nonNull.length > 0 && chance(rng, 0.85) ? pick(rng, nonNull) : pick(rng, type);
    }
    return type !== undefined ? type : inferredType(schema);
  };

  const ctx: GenerationContext = { rng, out, strings, value };
  const objectPlan = createObjectPlans();
  const object = createObjectWriter(ctx, objectPlan);
  const array = createArrayWriter(ctx);
  const string = createStringGenerator(ctx);
  const number = createNumberGenerator(rng);
  const minimumChars = createMinimumMeasure({ resolve, objectPlan, constText });

  return { value, minimumChars };
}
