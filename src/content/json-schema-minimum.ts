/**
 * A lower bound on the length of any value of a schema as the generator writes it (the required
 * parts of objects, minItems, minLength, the shortest const / enum / option), so that planning can
 * refuse a schema whose smallest value is longer than max_tokens allows before writing anything
 * (json-schema.ts `generateJson` with `refuseOversized`).
 */
import { pythonJson } from './python-json.js';
import type { ObjectPlan } from './json-schema-object.js';
import type { SchemaResolver } from './json-schema-resolve.js';
import { asArray, inferredType, isRecord, type Schema } from './json-schema-shape.js';

/** minimumOf the root; 0 when measuring took too long (nothing is refused then). */
export function createMinimumMeasure(parts: {
  readonly resolve: SchemaResolver['resolve'];
  readonly objectPlan: (schema: Record<string, unknown>) => ObjectPlan;
  readonly constText: (schema: Record<string, unknown>) => string;
}): (schema: Schema) => number {
  const { resolve, objectPlan, constText } = parts;
  /**
   * A lower bound on the length of any value of `schema` as written here (the required parts of
   * objects, minItems, minLength, the shortest const / enum / option): computed once per schema
   * object, so a document of shared `$ref`s costs its size, not its expansion. A reference back
   * into a schema being measured counts as endless (that option cannot be the shortest) and is
   * not remembered, so cycles do not poison other paths; MINIMUM_STEPS bounds the work, and past
   * it the bound is 0 (nothing is refused).
   */
  const minimums = new WeakMap<object, number>();
  const measuring = new Set<object>();
  let steps = 0;
  let cyclic = false;
  const minimumOf = (input: Schema, where: string): number => {
    if (++steps > MINIMUM_STEPS) throw new MeasureAbandoned();
    const schema = resolve(input, where, 0);
    if (schema === true) return 1;
    if (schema === false) return Infinity;
    const known = minimums.get(schema);
    if (known !== undefined) return known;
    if (measuring.has(schema)) {
      cyclic = true;
      return Infinity;
    }
    measuring.add(schema);
    const outerCyclic = cyclic;
    cyclic = false;
    let result: number;
    try {
      result = measure(schema, where);
    } finally {
      measuring.delete(schema);
    }
    if (!cyclic) minimums.set(schema, result);
    cyclic ||= outerCyclic;
    return result;
  };
  const measure = (schema: Record<string, unknown>, where: string): number => {
    if ('const' in schema) return constText(schema).length;
    if (Array.isArray(schema['enum'])) {
      return schema['enum'].reduce((min: number, v) => Math.min(min, pythonJson(v).length), Infinity);
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      const options = schema[key];
      if (Array.isArray(options) && options.length > 0) {
        let min = Infinity;
        options.forEach((option, i) => {
          if (typeof option === 'boolean' || isRecord(option)) {
            min = Math.min(min, minimumOf(option, `${where}/${key}/${i}`));
          }
        });
        return min;
      }
    }
    const type = schema['type'];
    const types = Array.isArray(type) ? type : [type === undefined ? inferredType(schema) : type];
    let min = Infinity;
    for (const t of types) min = Math.min(min, minimumOfType(schema, t, where));
    return min;
  };
  const minimumOfType = (schema: Record<string, unknown>, type: unknown, where: string): number => {
    switch (type) {
      case 'object': {
        const plan = objectPlan(schema);
        let chars = 2;
        let count = 0;
        for (const i of plan.requiredIndexes) {
          const name = plan.names[i]!;
          chars +=
            JSON.stringify(name).length + 2 + minimumOf(plan.schemas[i]!, `${where}/properties/${name}`);
          count++;
        }
        for (const name of plan.requiredOnly) {
          chars += JSON.stringify(name).length + 3;
          count++;
        }
        // Further properties: at least `"": 0`, five characters.
        chars += Math.max(0, plan.minProperties - count) * 5;
        return chars + 2 * Math.max(0, Math.max(count, plan.minProperties) - 1);
      }
      case 'array': {
        const minItems =
          typeof schema['minItems'] === 'number' ? Math.max(0, Math.ceil(schema['minItems'])) : 0;
        if (minItems === 0) return 2;
        const items = schema['items'];
        const tuple = (Array.isArray(items) ? items : asArray(schema['prefixItems'])) as Schema[];
        const rest: Schema = Array.isArray(items) || items === undefined ? true : (items as Schema);
        let chars = 2 + 2 * (minItems - 1);
        for (let i = 0; i < Math.min(minItems, tuple.length); i++) {
          chars += minimumOf(tuple[i]!, `${where}/items/${i}`);
        }
        if (minItems > tuple.length) chars += (minItems - tuple.length) * minimumOf(rest, `${where}/items`);
        return chars;
      }
      case 'string':
        return 2 + (typeof schema['minLength'] === 'number' ? Math.max(0, schema['minLength']) : 0);
      case 'boolean':
      case 'null':
        return 4;
      default:
        return 1;
    }
  };

  return (schema) => {
    try {
      return minimumOf(schema, '#');
    } catch (err) {
      if (err instanceof MeasureAbandoned) return 0;
      throw err;
    }
  };
}

/** Schema objects visited at most while measuring the smallest value (cycles are re-walked). */
const MINIMUM_STEPS = 100_000;

class MeasureAbandoned extends Error {}
