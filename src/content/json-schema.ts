/**
 * Seeded JSON values that validate against a JSON Schema: what a model under guided decoding
 * (vLLM's `structured_outputs.json`, OpenAI's `response_format: json_schema`) would produce, and
 * the arguments of generated tool calls. Covers the keywords real request schemas use: type (and
 * type lists), enum, const, properties / required / additionalProperties / minProperties, items /
 * prefixItems / minItems / maxItems / uniqueItems, numeric bounds (draft-4 and later exclusive
 * forms) and multipleOf, minLength / maxLength / pattern, string formats (date-time, date, time,
 * email, uuid, uri, hostname, ipv4, ipv6), anyOf / oneOf / allOf and $ref into $defs / definitions.
 * Unknown keywords are ignored, as guided decoding backends ignore annotations.
 */
import { compileRegex } from './guided-regex.js';
import { createStringFormats } from './json-schema-formats.js';
import { createRandom, hashSeed, type Random } from './random.js';

/** The schema cannot be satisfied or uses something unsupported; the message says where. */
export class JsonSchemaError extends Error {
  override readonly name = 'JsonSchemaError';
}

type Schema = Record<string, unknown> | boolean;

/** Past this depth, generation keeps to required properties, minimum items and non-$ref branches. */
const SHALLOW_DEPTH = 5;
const MAX_DEPTH = 32;
/** Array length spread above minItems when maxItems allows. */
const ITEMS_EXTRA = 3;

/** A value for `schema`, a pure function of the schema and the seed. */
export function generateFromSchema(schema: unknown, seed: number): unknown {
  if (typeof schema !== 'boolean' && !isRecord(schema)) {
    throw new JsonSchemaError('schema must be an object or a boolean');
  }
  const gen = createSchemaGenerator(schema, createRandom(hashSeed(seed, 'json-schema')));
  return gen.value(schema, 0, '#');
}

function createSchemaGenerator(root: Schema, rng: Random) {
  const pick = <T>(items: readonly T[]): T => items[rng.nextInt(items.length)]!;
  const chance = (p: number): boolean => rng.nextFloat() < p;
  const int = (lo: number, hi: number): number => lo + rng.nextInt(hi - lo + 1);
  const strings = createStringFormats(rng);

  const resolveRef = (ref: string, where: string): Schema => {
    if (!ref.startsWith('#')) throw new JsonSchemaError(`${where}: only local $ref is supported, got ${ref}`);
    let node: unknown = root;
    for (const raw of ref
      .slice(1)
      .split('/')
      .filter((p) => p !== '')) {
      const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      node = isRecord(node) ? node[part] : undefined;
    }
    if (typeof node !== 'boolean' && !isRecord(node))
      throw new JsonSchemaError(`${where}: $ref ${ref} not found`);
    return node;
  };

  /** allOf folded into one schema: properties and required united, other keywords last-wins. */
  const merged = (schema: Record<string, unknown>, where: string): Record<string, unknown> => {
    const all = schema['allOf'];
    if (!Array.isArray(all)) return schema;
    const { allOf: _all, ...rest } = schema;
    let out: Record<string, unknown> = { ...rest };
    for (const [i, raw] of all.entries()) {
      let part = raw as Schema;
      if (isRecord(part) && typeof part['$ref'] === 'string') part = resolveRef(part['$ref'], where);
      if (!isRecord(part)) continue;
      const sub = merged(part, `${where}/allOf/${i}`);
      out = {
        ...sub,
        ...out,
        properties: { ...asRecord(sub['properties']), ...asRecord(out['properties']) },
        required: [...asArray(sub['required']), ...asArray(out['required'])],
      };
    }
    return out;
  };

  const value = (input: Schema, depth: number, where: string): unknown => {
    if (depth > MAX_DEPTH) throw new JsonSchemaError(`${where}: schema nests deeper than ${MAX_DEPTH}`);
    if (input === true) return strings.word();
    if (input === false) throw new JsonSchemaError(`${where}: false schema accepts nothing`);
    let schema = input;
    if (typeof schema['$ref'] === 'string') {
      const { $ref, ...siblings } = schema;
      const target = resolveRef($ref, where);
      schema = isRecord(target) ? { ...target, ...siblings } : target ? siblings : {};
      if (!isRecord(target) && !target) throw new JsonSchemaError(`${where}: $ref to false schema`);
    }
    schema = merged(schema, where);
    if ('const' in schema) return schema['const'];
    if (Array.isArray(schema['enum'])) {
      if (schema['enum'].length === 0) throw new JsonSchemaError(`${where}: empty enum`);
      return pick(schema['enum'] as unknown[]);
    }
    for (const key of ['anyOf', 'oneOf'] as const) {
      const options = schema[key];
      if (Array.isArray(options) && options.length > 0) {
        const { [key]: _o, ...rest } = schema;
        let choices = options as Schema[];
        if (depth >= SHALLOW_DEPTH) {
          const flat = choices.filter((c) => !(isRecord(c) && '$ref' in c));
          if (flat.length > 0) choices = flat;
        }
        const index = rng.nextInt(choices.length);
        const branch = choices[index]!;
        return value(
          isRecord(branch) ? { ...rest, ...branch } : branch,
          depth + 1,
          `${where}/${key}/${index}`,
        );
      }
    }
    const type = chooseType(schema);
    switch (type) {
      case 'object':
        return object(schema, depth, where);
      case 'array':
        return array(schema, depth, where);
      case 'string':
        return string(schema, where);
      case 'integer':
        return number(schema, true, where);
      case 'number':
        return number(schema, false, where);
      case 'boolean':
        return chance(0.5);
      case 'null':
        return null;
      default:
        throw new JsonSchemaError(`${where}: unsupported type ${JSON.stringify(type)}`);
    }
  };

  const chooseType = (schema: Record<string, unknown>): unknown => {
    const type = schema['type'];
    if (Array.isArray(type)) {
      if (type.length === 0) throw new JsonSchemaError('empty type list');
      // Prefer a real value over null, as a model usually does.
      const nonNull = type.filter((t) => t !== 'null');
      return nonNull.length > 0 && chance(0.85) ? pick(nonNull) : pick(type);
    }
    if (type !== undefined) return type;
    if ('properties' in schema || 'required' in schema || 'additionalProperties' in schema) return 'object';
    if ('items' in schema || 'prefixItems' in schema || 'minItems' in schema) return 'array';
    if ('minimum' in schema || 'maximum' in schema || 'multipleOf' in schema) return 'number';
    if ('minLength' in schema || 'maxLength' in schema || 'pattern' in schema || 'format' in schema)
      return 'string';
    return 'string';
  };

  const object = (schema: Record<string, unknown>, depth: number, where: string) => {
    const properties = asRecord(schema['properties']);
    const required = new Set(asArray(schema['required']).filter((r): r is string => typeof r === 'string'));
    const minProperties = typeof schema['minProperties'] === 'number' ? schema['minProperties'] : 0;
    const maxProperties = typeof schema['maxProperties'] === 'number' ? schema['maxProperties'] : Infinity;
    const out: Record<string, unknown> = {};
    const names = Object.keys(properties);
    const included = names.filter((name) => required.has(name) || (depth < SHALLOW_DEPTH && chance(0.6)));
    for (const name of names) {
      if (!included.includes(name) && included.length < minProperties) included.push(name);
    }
    for (const name of names) {
      if (!included.includes(name)) continue;
      if (Object.keys(out).length >= maxProperties && !required.has(name)) continue;
      out[name] = value(properties[name] as Schema, depth + 1, `${where}/properties/${name}`);
    }
    // Required names without a property schema can be anything.
    for (const name of required) if (!(name in out)) out[name] = strings.word();
    const extra = schema['additionalProperties'];
    let n = 0;
    while (Object.keys(out).length < minProperties) {
      if (extra === false) throw new JsonSchemaError(`${where}: minProperties cannot be met`);
      out[`extra_${n++}`] = value(isRecord(extra) ? extra : true, depth + 1, `${where}/additionalProperties`);
    }
    return out;
  };

  const array = (schema: Record<string, unknown>, depth: number, where: string) => {
    const prefix = asArray(schema['prefixItems']) as Schema[];
    const items = schema['items'];
    const itemSchema: Schema | undefined = Array.isArray(items)
      ? undefined
      : isRecord(items) || typeof items === 'boolean'
        ? items
        : undefined;
    const tuple = Array.isArray(items) ? (items as Schema[]) : prefix;
    const minItems = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
    const maxItems = typeof schema['maxItems'] === 'number' ? schema['maxItems'] : Infinity;
    if (maxItems < minItems) throw new JsonSchemaError(`${where}: maxItems below minItems`);
    const restAllowed = itemSchema !== false && (tuple.length === 0 || items !== false);
    const lo = Math.max(minItems, 0);
    const hi = Math.min(
      maxItems,
      restAllowed ? lo + (depth < SHALLOW_DEPTH ? ITEMS_EXTRA : 0) : tuple.length,
    );
    let count = hi <= lo ? lo : int(lo, hi);
    count = Math.max(count, Math.min(tuple.length, maxItems === Infinity ? tuple.length : maxItems));
    if (tuple.length > 0 && count < Math.min(tuple.length, minItems)) count = minItems;
    const unique = schema['uniqueItems'] === true;
    const seen = new Set<string>();
    const out: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const sub: Schema = i < tuple.length ? tuple[i]! : (itemSchema ?? true);
      let item = value(sub, depth + 1, `${where}/items/${i}`);
      for (let attempt = 0; unique && seen.has(JSON.stringify(item)) && attempt < 20; attempt++) {
        item = value(sub, depth + 1, `${where}/items/${i}`);
      }
      if (unique && seen.has(JSON.stringify(item))) {
        if (out.length >= minItems) break;
        throw new JsonSchemaError(`${where}: cannot find ${minItems} unique items`);
      }
      seen.add(JSON.stringify(item));
      out.push(item);
    }
    return out;
  };

  const string = (schema: Record<string, unknown>, where: string): string => {
    const minLength = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
    const maxLength = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : Infinity;
    if (maxLength < minLength) throw new JsonSchemaError(`${where}: maxLength below minLength`);
    let text: string;
    if (typeof schema['pattern'] === 'string') {
      const regex = compileRegex(schema['pattern']);
      // The pattern is searched, not anchored, in JSON Schema; a full match satisfies it too.
      text = regex.generate(rng);
      for (let attempt = 0; attempt < 20 && !fits(text, minLength, maxLength); attempt++) {
        text = regex.generate(rng);
      }
      return text;
    }
    const format = typeof schema['format'] === 'string' ? strings.formatted(schema['format']) : undefined;
    if (format !== undefined) return format;
    text = `${strings.word()} ${strings.word()}`;
    while (length(text) < minLength) text += ` ${strings.word()}`;
    if (length(text) > maxLength) text = [...text].slice(0, maxLength).join('').trimEnd();
    while (length(text) < minLength) text += 'x';
    return text;
  };

  const number = (schema: Record<string, unknown>, integer: boolean, where: string): number => {
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
    // A model picks modest numbers: 0–100 unless the bounds say otherwise.
    if (lo === -Infinity) lo = hi === Infinity ? 0 : Math.min(0, hi - 100);
    if (hi === Infinity) hi = lo + 100;
    const step = num('multipleOf') ?? (integer ? 1 : 0.01);
    if (step <= 0) throw new JsonSchemaError(`${where}: multipleOf must be positive`);
    const ok = (v: number) =>
      (loOpen ? v > lo : v >= lo) &&
      (hiOpen ? v < hi : v <= hi) &&
      (!integer || Number.isInteger(v)) &&
      (schema['multipleOf'] === undefined || Number.isInteger(v / step));
    const unit = integer ? lcmStep(step) : step;
    const kLo = Math.ceil(lo / unit);
    const kHi = Math.floor(hi / unit);
    if (kHi >= kLo) {
      const span = kHi - kLo;
      for (let attempt = 0; attempt < 20; attempt++) {
        const k = kLo + (span > 2 ** 31 ? rng.nextInt(2 ** 31) : rng.nextInt(span + 1));
        const v = roundLike(k * unit, unit);
        if (ok(v)) return v;
      }
      for (let k = kLo; k <= Math.min(kHi, kLo + 1000); k++) {
        const v = roundLike(k * unit, unit);
        if (ok(v)) return v;
      }
    }
    if (!integer && schema['multipleOf'] === undefined) {
      const mid = (lo + hi) / 2;
      if (ok(mid)) return mid;
    }
    throw new JsonSchemaError(`${where}: no ${integer ? 'integer' : 'number'} satisfies the bounds`);
  };

  return { value };
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
  const decimals = Math.min(12, Math.max(0, -Math.floor(Math.log10(Math.abs(unit))) + 2));
  return Number(value.toFixed(decimals));
}

function fits(text: string, min: number, max: number): boolean {
  const n = length(text);
  return n >= min && n <= max;
}

/** JSON Schema counts code points, not UTF-16 units. */
function length(text: string): number {
  return [...text].length;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
