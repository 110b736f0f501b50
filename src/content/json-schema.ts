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
import { schemaBoundsProblem } from './json-schema-bounds.js';
import { createSchemaGenerator } from './json-schema-generator.js';
import { isRecord, JsonSchemaError, type Schema } from './json-schema-shape.js';
import { BudgetExhausted, createWriter } from './json-schema-writer.js';
import { createRandom, hashSeed } from '../util/random.js';

export { JsonSchemaError } from './json-schema-shape.js';

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
