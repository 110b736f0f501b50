/**
 * Objects for the JSON Schema generator: the required properties, others near the top by chance
 * (in schema order), required names without a schema, and `extra_N` properties up to
 * minProperties. The plan of each schema object (names, keys as written, required sets) is made
 * once and shared with the size measure (json-schema-minimum.ts).
 */
import { chance, SHALLOW_DEPTH, type GenerationContext } from './json-schema-context.js';
import { asArray, asRecord, isRecord, JsonSchemaError, type Schema } from './json-schema-shape.js';

export interface ObjectPlan {
  /** Property names in schema order, with their schemas. */
  readonly names: readonly string[];
  /** `"name": ` per name, as written. */
  readonly keys: readonly string[];
  readonly schemas: readonly Schema[];
  /** Indexes into `names` of the required ones. */
  readonly requiredIndexes: readonly number[];
  readonly required: ReadonlySet<string>;
  /** Required names without a property schema, in `required` order. */
  readonly requiredOnly: readonly string[];
  readonly minProperties: number;
  readonly maxProperties: number;
  readonly extra: unknown;
}

/** The plan of a schema object, made once per object. */
export function createObjectPlans(): (schema: Record<string, unknown>) => ObjectPlan {
  const objectPlans = new WeakMap<object, ObjectPlan>();
  return (schema) => {
    let plan = objectPlans.get(schema);
    if (plan !== undefined) return plan;
    const properties = asRecord(schema['properties']);
    const names = Object.keys(properties);
    const required = new Set(asArray(schema['required']).filter((r): r is string => typeof r === 'string'));
    const known = new Set(names);
    plan = {
      names,
      keys: names.map((name) => `${JSON.stringify(name)}: `),
      schemas: names.map((name) => properties[name] as Schema),
      requiredIndexes: names.flatMap((name, i) => (required.has(name) ? [i] : [])),
      required,
      requiredOnly: [...required].filter((name) => !known.has(name)),
      minProperties: typeof schema['minProperties'] === 'number' ? schema['minProperties'] : 0,
      maxProperties: typeof schema['maxProperties'] === 'number' ? schema['maxProperties'] : Infinity,
      extra: schema['additionalProperties'],
    };
    objectPlans.set(schema, plan);
    return plan;
  };
}

/** The writer of object values. */
export function createObjectWriter(
  ctx: GenerationContext,
  objectPlan: (schema: Record<string, unknown>) => ObjectPlan,
): (schema: Record<string, unknown>, depth: number, where: string) => void {
  const { rng, out, strings, value } = ctx;
  return (schema, depth, where) => {
    const plan = objectPlan(schema);
    const { names, required, minProperties } = plan;
    // Which properties: the required ones, and (near the top) others by chance, in schema order.
    let included: number[];
    if (depth < SHALLOW_DEPTH) {
      included = [];
      names.forEach((name, i) => {
        if (required.has(name) || chance(rng, 0.6)) included.push(i);
      });
    } else {
      included = plan.requiredIndexes.slice();
    }
    if (included.length < minProperties) {
      const chosen = new Set(included);
      for (let i = 0; i < names.length && included.length < minProperties; i++) {
        if (!chosen.has(i)) included.push(i);
      }
      included.sort((a, b) => a - b);
    }
    const written = new Set<string>();
    const entry = (name: string, key = `${JSON.stringify(name)}: `): void => {
      if (written.size > 0) out.write(', ');
      out.write(key);
      written.add(name);
    };
    out.write('{');
    for (const i of included) {
      const name = names[i]!;
      if (written.size >= plan.maxProperties && !required.has(name)) continue;
      entry(name, plan.keys[i]);
      value(plan.schemas[i]!, depth + 1, `${where}/properties/${name}`);
    }
    // Required names without a property schema can be anything.
    for (const name of plan.requiredOnly) {
      if (written.has(name)) continue;
      entry(name);
      out.write(JSON.stringify(strings.word()));
    }
    let n = 0;
    while (written.size < minProperties) {
      if (plan.extra === false) throw new JsonSchemaError(`${where}: minProperties cannot be met`);
      let name: string;
      do name = `extra_${n++}`;
      while (written.has(name) || required.has(name));
      entry(name);
      value(isRecord(plan.extra) ? plan.extra : true, depth + 1, `${where}/additionalProperties`);
    }
    out.write('}');
  };
}
