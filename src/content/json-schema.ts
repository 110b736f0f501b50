/**
 * Seeded JSON that validates against a JSON Schema: what a model under guided decoding (vLLM's
 * `structured_outputs.json`, OpenAI's `response_format: json_schema`) would write, and the
 * arguments of generated tool calls. Covers the keywords real request schemas use: type (and type
 * lists), enum, const, properties / required / additionalProperties / minProperties, items /
 * prefixItems / minItems / maxItems / uniqueItems, numeric bounds (draft-4 and later exclusive
 * forms) and multipleOf, minLength / maxLength / pattern, string formats (date-time, date, time,
 * email, uuid, uri, hostname, ipv4, ipv6), anyOf / oneOf / allOf and $ref into $defs /
 * definitions. Unknown keywords are ignored, as guided decoding backends ignore annotations.
 *
 * The text is written directly, in Python's `json.dumps` spelling (the spelling the Llama 3.1
 * template uses), keys in the schema's order as JavaScript keeps it (integer-like names first,
 * unlike Python). What one schema can cost:
 * - the document is bounded first (json-schema-bounds.ts: depth, size, counts);
 * - generation spends a budget of characters (written, or drawn and discarded by a retry) and
 *   stops when it is used up: the caller ties it to max_tokens (`schemaBudget`), since nothing
 *   longer can be emitted, so `minItems: 100000` of 2^24-leaf `$ref` trees costs what the answer
 *   can show, and the answer is then cut there as a model's would be at max_tokens;
 * - everything derived from a schema object ($ref and allOf resolution, branch merges, property
 *   lists, number grids) is computed once per object, so each step costs O(1) plus what it writes.
 */
import { pythonJson, pythonNumber } from './chat-template.js';
import { compileRegex, UnsupportedRegexError, type RegexGenerator } from './guided-regex.js';
import { schemaBoundsProblem } from './json-schema-bounds.js';
import { createStringFormats } from './json-schema-formats.js';
import { createRandom, hashSeed, type Random } from './random.js';

/** The schema cannot be satisfied or uses something unsupported; the message says where. */
export class JsonSchemaError extends Error {
  override readonly name = 'JsonSchemaError';
  constructor(
    message: string,
    /** The request field the schema came from, when the content layer knows it (tool parameters). */
    readonly field?: string,
  ) {
    super(message);
  }
}

type Schema = Record<string, unknown> | boolean;

/** Past this depth, generation keeps to required properties, minimum items and non-$ref branches. */
const SHALLOW_DEPTH = 5;
const MAX_DEPTH = 32;
/** Array length spread above minItems when maxItems allows. */
const ITEMS_EXTRA = 3;
/** How deep `$ref` and `allOf` may resolve inside one another. */
const MAX_RESOLVE_DEPTH = 64;

/**
 * Characters of budget per token of max_tokens. Python-spelled JSON of words and numbers runs at
 * 3–4 characters per Llama 3 token and a run of one letter at 8, so this covers every answer a
 * request can see; past it, generation stops.
 */
export const CHARS_PER_TOKEN_BUDGET = 16;
/** The budget of the check made when a request arrives (`validateSchema`). */
export const VALIDATION_BUDGET_CHARS = 65_536;

/** The generation budget for an answer of at most `maxTokens` tokens. */
export function schemaBudget(maxTokens: number): number {
  return Math.max(0, Math.floor(maxTokens)) * CHARS_PER_TOKEN_BUDGET + 1024;
}

export interface SchemaJson {
  /** The value's JSON text, or its beginning when `truncated`. */
  readonly text: string;
  /** The budget ran out: `text` is a prefix of the value's text. */
  readonly truncated: boolean;
}

/**
 * JSON text of a value for `schema`, a pure function of the schema, the seed and the budget. With
 * `refuseOversized` (planning an answer, the budget tied to max_tokens), a schema whose smallest
 * value is longer than the budget is refused (JsonSchemaError): no answer could be valid, and
 * `minItems` products such as 24 levels of two required `$ref` children (2^24 leaves) are caught
 * before anything is written.
 */
export function generateJson(
  schema: unknown,
  seed: number,
  budgetChars: number,
  opts: { readonly refuseOversized?: boolean } = {},
): SchemaJson {
  const root = checkSchema(schema);
  const writer = createWriter(budgetChars);
  const generator = createSchemaGenerator(root, createRandom(hashSeed(seed, 'json-schema')), writer);
  if (opts.refuseOversized === true) {
    const smallest = generator.minimumChars(root);
    if (smallest > budgetChars) {
      throw new JsonSchemaError(
        smallest === Infinity
          ? '#: the schema allows no value of finite length (a required part is false or contains itself)'
          : `#: the smallest value the schema allows has at least ${formatCount(smallest)} characters, more than the ${formatCount(budgetChars)} that max_tokens allows`,
      );
    }
  }
  try {
    generator.value(root, 0, '#');
  } catch (err) {
    if (!(err instanceof BudgetExhausted)) throw err;
  }
  return { text: writer.text(), truncated: writer.truncated };
}

/** The type a schema without `type` gets from its keywords. */
function inferredType(schema: Record<string, unknown>): string {
  if ('properties' in schema || 'required' in schema || 'additionalProperties' in schema) return 'object';
  if ('items' in schema || 'prefixItems' in schema || 'minItems' in schema) return 'array';
  if ('minimum' in schema || 'maximum' in schema || 'multipleOf' in schema) return 'number';
  return 'string';
}

function formatCount(n: number): string {
  return n >= 1e15 ? n.toExponential(2) : Math.round(n).toLocaleString('en-US');
}

/**
 * Refuses (JsonSchemaError) a schema beyond the bounds, or one whose first value cannot be made
 * (unsatisfiable bounds, an unresolvable $ref, …), with a short trial run. A schema whose smallest
 * value is longer than the trial's budget skips the trial: planning measures it against max_tokens.
 */
export function validateSchema(schema: unknown): void {
  const root = checkSchema(schema);
  const writer = createWriter(VALIDATION_BUDGET_CHARS);
  const generator = createSchemaGenerator(root, createRandom(hashSeed(0, 'json-schema')), writer);
  if (generator.minimumChars(root) > VALIDATION_BUDGET_CHARS) return;
  try {
    generator.value(root, 0, '#');
  } catch (err) {
    if (!(err instanceof BudgetExhausted)) throw err;
  }
}

/** The value for `schema` (parsed); JsonSchemaError if it does not fit in `budgetChars`. */
export function generateFromSchema(schema: unknown, seed: number, budgetChars = 1_048_576): unknown {
  const { text, truncated } = generateJson(schema, seed, budgetChars);
  if (truncated) throw new JsonSchemaError(`the value is longer than ${budgetChars} characters`);
  return JSON.parse(text) as unknown;
}

function checkSchema(schema: unknown): Schema {
  if (typeof schema !== 'boolean' && !isRecord(schema)) {
    throw new JsonSchemaError('schema must be an object or a boolean');
  }
  const problem = schemaBoundsProblem(schema);
  if (problem !== undefined) throw new JsonSchemaError(problem);
  return schema;
}

/** Thrown inside generation when the budget is used up; caught by generateJson. */
class BudgetExhausted extends Error {}

interface Writer {
  write(text: string): void;
  /** Counts work that writes nothing (a drawn value thrown away). */
  spend(chars: number): void;
  mark(): number;
  /** Text written since `mark`. */
  since(mark: number): string;
  /** Forgets what was written since `mark` (its cost stays spent). */
  rollback(mark: number): void;
  text(): string;
  readonly truncated: boolean;
}

function createWriter(budget: number): Writer {
  const parts: string[] = [];
  let used = 0;
  let truncated = false;
  const exhausted = (): never => {
    truncated = true;
    throw new BudgetExhausted();
  };
  return {
    write(text) {
      used += text.length;
      if (used > budget) {
        let keep = text.length - (used - budget);
        const last = text.charCodeAt(keep - 1);
        if (last >= 0xd800 && last <= 0xdbff) keep--; // not half a surrogate pair
        if (keep > 0) parts.push(text.slice(0, keep));
        exhausted();
      }
      parts.push(text);
    },
    spend(chars) {
      used += chars;
      if (used > budget) exhausted();
    },
    mark: () => parts.length,
    since: (mark) => parts.slice(mark).join(''),
    rollback(mark) {
      parts.length = mark;
    },
    text: () => parts.join(''),
    get truncated() {
      return truncated;
    },
  };
}

interface ObjectPlan {
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

function createSchemaGenerator(root: Schema, rng: Random, out: Writer) {
  const pick = <T>(items: readonly T[]): T => items[rng.nextInt(items.length)]!;
  const chance = (p: number): boolean => rng.nextFloat() < p;
  const int = (lo: number, hi: number): number => lo + rng.nextInt(hi - lo + 1);
  const strings = createStringFormats(rng);
  const writeString = (text: string): void => out.write(JSON.stringify(text));

  const resolved = new WeakMap<object, Schema>();
  const resolving = new Set<object>();
  const branches = new WeakMap<object, Map<string, Schema>>();
  const flatOptions = new WeakMap<object, number[]>();
  const objectPlans = new WeakMap<object, ObjectPlan>();
  const numberPlans = {
    integer: new WeakMap<object, NumberPlan>(),
    number: new WeakMap<object, NumberPlan>(),
  };
  const constTexts = new WeakMap<object, string>();
  const regexes = new Map<string, RegexGenerator>();

  /** The node a local `$ref` points to (JSON Pointer, RFC 6901, percent-decoded). */
  const lookup = (ref: string, where: string): Schema => {
    if (!ref.startsWith('#')) throw new JsonSchemaError(`${where}: only local $ref is supported, got ${ref}`);
    let node: unknown = root;
    for (const raw of ref
      .slice(1)
      .split('/')
      .filter((p) => p !== '')) {
      let part: string;
      try {
        part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      } catch {
        throw new JsonSchemaError(`${where}: $ref ${ref} is not a valid JSON pointer`);
      }
      node =
        typeof node === 'object' && node !== null && Object.hasOwn(node, part)
          ? (node as Record<string, unknown>)[part]
          : undefined;
    }
    if (typeof node !== 'boolean' && !isRecord(node))
      throw new JsonSchemaError(`${where}: $ref ${ref} not found`);
    return node;
  };

  /**
   * `schema` with its `$ref` followed (siblings override the target) and its `allOf` folded in,
   * once per schema object. A chain that comes back to itself is refused, not recursed into.
   */
  const resolve = (schema: Schema, where: string, depth: number): Schema => {
    if (typeof schema === 'boolean') return schema;
    const known = resolved.get(schema);
    if (known !== undefined) return known;
    if (resolving.has(schema)) throw new JsonSchemaError(`${where}: $ref or allOf refers back to itself`);
    if (depth > MAX_RESOLVE_DEPTH) {
      throw new JsonSchemaError(`${where}: $ref and allOf chain deeper than ${MAX_RESOLVE_DEPTH}`);
    }
    resolving.add(schema);
    try {
      let result: Schema = schema;
      if (typeof schema['$ref'] === 'string') {
        const { $ref, ...siblings } = schema;
        const target = resolve(lookup($ref, where), where, depth + 1);
        if (target === false) throw new JsonSchemaError(`${where}: $ref to false schema`);
        result = target === true ? siblings : { ...target, ...siblings };
      }
      if (isRecord(result) && Array.isArray(result['allOf'])) result = foldAllOf(result, where, depth);
      resolved.set(schema, result);
      return result;
    } finally {
      resolving.delete(schema);
    }
  };

  /**
   * allOf folded into one schema: the schema's own keywords win, then earlier parts over later
   * ones; properties are united the same way and `required` lists joined. One pass over the parts.
   */
  const foldAllOf = (
    schema: Record<string, unknown>,
    where: string,
    depth: number,
  ): Record<string, unknown> => {
    const { allOf, ...own } = schema;
    const parts: Record<string, unknown>[] = [];
    (allOf as unknown[]).forEach((raw, i) => {
      if (typeof raw !== 'boolean' && !isRecord(raw)) return;
      const part = resolve(raw, `${where}/allOf/${i}`, depth + 1);
      if (isRecord(part)) parts.push(part);
    });
    // Lowest precedence first, so later writes win: the last part … the first, then the schema.
    const layers = [...parts.reverse(), own];
    const result: Record<string, unknown> = {};
    const properties = new Map<string, unknown>();
    const required: unknown[] = [];
    for (const layer of layers) {
      for (const key of Object.keys(layer)) defineOwn(result, key, layer[key]);
      for (const [name, sub] of Object.entries(asRecord(layer['properties']))) properties.set(name, sub);
      for (const name of asArray(layer['required'])) required.push(name);
    }
    const united: Record<string, unknown> = {};
    for (const [name, sub] of properties) defineOwn(united, name, sub);
    defineOwn(result, 'properties', united);
    defineOwn(result, 'required', required);
    return result;
  };

  /** `{...rest, ...branch}` of an anyOf/oneOf option, once per schema object and option. */
  const branchOf = (schema: Record<string, unknown>, key: string, index: number): Schema => {
    let cache = branches.get(schema);
    if (cache === undefined) branches.set(schema, (cache = new Map()));
    const id = `${key}/${index}`;
    let merged = cache.get(id);
    if (merged === undefined) {
      const branch = (schema[key] as Schema[])[index]!;
      if (isRecord(branch)) {
        const { [key]: _options, ...rest } = schema;
        merged = { ...rest, ...branch };
      } else {
        merged = branch;
      }
      cache.set(id, merged);
    }
    return merged;
  };

  const value = (input: Schema, depth: number, where: string): void => {
    if (depth > MAX_DEPTH) throw new JsonSchemaError(`${where}: schema nests deeper than ${MAX_DEPTH}`);
    const schema = resolve(input, where, 0);
    if (schema === true) return writeString(strings.word());
    if (schema === false) throw new JsonSchemaError(`${where}: false schema accepts nothing`);
    if ('const' in schema) return out.write(constText(schema));
    if (Array.isArray(schema['enum'])) {
      if (schema['enum'].length === 0) throw new JsonSchemaError(`${where}: empty enum`);
      return out.write(pythonJson(pick(schema['enum'] as unknown[])));
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
        return out.write(chance(0.5) ? 'true' : 'false');
      case 'null':
        return out.write('null');
      default:
        throw new JsonSchemaError(`${where}: unsupported type ${JSON.stringify(type)}`);
    }
  };

  const constText = (schema: Record<string, unknown>): string => {
    let text = constTexts.get(schema);
    if (text === undefined) constTexts.set(schema, (text = pythonJson(schema['const'])));
    return text;
  };

  /** Options that are not a bare $ref, for deep levels (their indexes into the option list). */
  const flatIndexes = (schema: Record<string, unknown>, key: string): number[] => {
    let cached = flatOptions.get(schema);
    if (cached === undefined) {
      const indexes: number[] = [];
      (schema[key] as unknown[]).forEach((c, i) => {
        if (!(isRecord(c) && '$ref' in c)) indexes.push(i);
      });
      flatOptions.set(schema, (cached = indexes));
    }
    return cached;
  };

  const chooseType = (schema: Record<string, unknown>, where: string): unknown => {
    const type = schema['type'];
    if (Array.isArray(type)) {
      if (type.length === 0) throw new JsonSchemaError(`${where}: empty type list`);
      // Prefer a real value over null, as a model usually does.
      const nonNull = nonNullTypes(type);
      return nonNull.length > 0 && chance(0.85) ? pick(nonNull) : pick(type);
    }
    return type !== undefined ? type : inferredType(schema);
  };
  const nonNullByList = new WeakMap<unknown[], unknown[]>();
  const nonNullTypes = (types: unknown[]): unknown[] => {
    let list = nonNullByList.get(types);
    if (list === undefined) nonNullByList.set(types, (list = types.filter((t) => t !== 'null')));
    return list;
  };

  const objectPlan = (schema: Record<string, unknown>): ObjectPlan => {
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

  const object = (schema: Record<string, unknown>, depth: number, where: string): void => {
    const plan = objectPlan(schema);
    const { names, required, minProperties } = plan;
    // Which properties: the required ones, and (near the top) others by chance, in schema order.
    let included: number[];
    if (depth < SHALLOW_DEPTH) {
      included = [];
      names.forEach((name, i) => {
        if (required.has(name) || chance(0.6)) included.push(i);
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
      writeString(strings.word());
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

  const array = (schema: Record<string, unknown>, depth: number, where: string): void => {
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
    out.write('[');
    let written = 0;
    for (let i = 0; i < count; i++) {
      const sub: Schema = i < tuple.length ? tuple[i]! : (itemSchema ?? true);
      const before = out.mark();
      if (written > 0) out.write(', ');
      if (!unique) {
        value(sub, depth + 1, `${where}/items/${i}`);
        written++;
        continue;
      }
      const start = out.mark();
      value(sub, depth + 1, `${where}/items/${i}`);
      let text = out.since(start);
      for (let attempt = 0; seen.has(text) && attempt < 20; attempt++) {
        out.rollback(start);
        value(sub, depth + 1, `${where}/items/${i}`);
        text = out.since(start);
      }
      if (seen.has(text)) {
        out.rollback(before);
        if (written >= minItems) break;
        throw new JsonSchemaError(`${where}: cannot find ${minItems} unique items`);
      }
      seen.add(text);
      written++;
    }
    out.write(']');
  };

  const regexFor = (pattern: string, where: string): RegexGenerator => {
    let regex = regexes.get(pattern);
    if (regex === undefined) {
      try {
        regex = compileRegex(pattern);
      } catch (err) {
        if (err instanceof UnsupportedRegexError)
          throw new JsonSchemaError(`${where}/pattern: ${err.message}`);
        throw err;
      }
      regexes.set(pattern, regex);
    }
    return regex;
  };

  const string = (schema: Record<string, unknown>, where: string): string => {
    const minLength = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
    const maxLength = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : Infinity;
    if (maxLength < minLength) throw new JsonSchemaError(`${where}: maxLength below minLength`);
    if (typeof schema['pattern'] === 'string') {
      const regex = regexFor(schema['pattern'], where);
      // The pattern is searched, not anchored, in JSON Schema; a full match satisfies it too.
      let text = regex.generate(rng);
      for (let attempt = 0; attempt < 20 && !fits(text, minLength, maxLength); attempt++) {
        out.spend(text.length);
        text = regex.generate(rng);
      }
      return text;
    }
    const format = typeof schema['format'] === 'string' ? strings.formatted(schema['format']) : undefined;
    if (format !== undefined) return format;
    // Words are ASCII, so length counts code points here, as JSON Schema does.
    let text = `${strings.word()} ${strings.word()}`;
    while (text.length < minLength) text += ` ${strings.word()}`;
    if (text.length > maxLength) text = text.slice(0, maxLength).trimEnd();
    while (text.length < minLength) text += 'x';
    return text;
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

  const number = (schema: Record<string, unknown>, integer: boolean, where: string): number => {
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

  return {
    value,
    /** minimumOf the root; 0 when measuring took too long (nothing is refused then). */
    minimumChars(schema: Schema): number {
      try {
        return minimumOf(schema, '#');
      } catch (err) {
        if (err instanceof MeasureAbandoned) return 0;
        throw err;
      }
    },
  };
}

/** Schema objects visited at most while measuring the smallest value (cycles are re-walked). */
const MINIMUM_STEPS = 100_000;

class MeasureAbandoned extends Error {}

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

function fits(text: string, min: number, max: number): boolean {
  const n = codePoints(text);
  return n >= min && n <= max;
}

/** JSON Schema counts code points, not UTF-16 units. */
function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Sets an own property even for `__proto__` (plain assignment would set the prototype). */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
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
