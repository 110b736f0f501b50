/**
 * Guided decoding (structured outputs): the text a model produces when constrained to a JSON
 * Schema, any JSON object, one of a list of choices, or a regular expression — as vLLM's
 * `structured_outputs` (`json`, `json_object`, `choice`, `regex`) and its older `guided_*`
 * spellings guarantee. JSON is written with Python's `json.dumps` separators, the spelling the
 * Llama 3.1 chat template uses for JSON, so token counts look like a real model's.
 */
import { compileRegex, type RegexGenerator } from './guided-regex.js';
import { generateJson, JsonSchemaError, type SchemaJson } from './json-schema.js';
import { createRandom, hashSeed } from '../util/random.js';

export type GuidedSpec =
  | {
      readonly kind: 'json';
      readonly schema: unknown;
      /** The request field the schema came from, named by a JsonSchemaError at planning. */
      readonly field?: string | undefined;
    }
  | { readonly kind: 'json_object' }
  | { readonly kind: 'choice'; readonly choices: readonly string[] }
  | { readonly kind: 'regex'; readonly regex: RegexGenerator };

/**
 * Longest `guided_choice` entry, in characters: as long as the longest regex expansion
 * (guided-regex.ts MAX_REGEX_EXPANSION); a 1 MB choice used to reach the tokenizer whole.
 */
export const MAX_GUIDED_CHOICE_CHARS = 100_000;

/** A free-form object for `json_object`: a model asked for JSON answers with a small record. */
const JSON_OBJECT_SCHEMA = {
  type: 'object',
  properties: {
    answer: { type: 'string', minLength: 8 },
    confidence: { type: 'number', minimum: 0, maximum: 1, multipleOf: 0.01 },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
  },
  required: ['answer', 'confidence'],
};

/** Builds a regex spec; throws UnsupportedRegexError naming what is outside the safe subset. */
export function guidedRegex(pattern: string): GuidedSpec {
  return { kind: 'regex', regex: compileRegex(pattern) };
}

/**
 * The constrained output text for this seed. JSON is generated within `budgetChars`
 * (json-schema.ts `schemaBudget` of max_tokens) and `truncated` when that ran out. Throws
 * JsonSchemaError for an unsatisfiable schema.
 */
export function guidedText(spec: GuidedSpec, seed: number, budgetChars: number): SchemaJson {
  const rng = createRandom(hashSeed(seed, 'guided'));
  switch (spec.kind) {
    case 'json':
      try {
        return generateJson(spec.schema, seed, budgetChars, { refuseOversized: true });
      } catch (err) {
        if (err instanceof JsonSchemaError && err.field === undefined && spec.field !== undefined) {
          throw new JsonSchemaError(`${spec.field}: ${err.message}`, spec.field);
        }
        throw err;
      }
    case 'json_object':
      return generateJson(JSON_OBJECT_SCHEMA, seed, budgetChars);
    case 'choice':
      return { text: spec.choices[rng.nextInt(spec.choices.length)] ?? '', truncated: false };
    case 'regex':
      return { text: spec.regex.generate(rng), truncated: false };
  }
}
