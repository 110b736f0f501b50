/**
 * Guided decoding (structured outputs): the text a model produces when constrained to a JSON
 * Schema, any JSON object, one of a list of choices, or a regular expression — as vLLM's
 * `structured_outputs` (`json`, `json_object`, `choice`, `regex`) and its older `guided_*`
 * spellings guarantee. JSON is written with Python's `json.dumps` separators, the spelling the
 * Llama 3.1 chat template uses for JSON, so token counts look like a real model's.
 */
import { pythonJson } from './chat-template.js';
import { compileRegex, type RegexGenerator } from './guided-regex.js';
import { generateFromSchema } from './json-schema.js';
import { createRandom, hashSeed } from './random.js';

export type GuidedSpec =
  | { readonly kind: 'json'; readonly schema: unknown }
  | { readonly kind: 'json_object' }
  | { readonly kind: 'choice'; readonly choices: readonly string[] }
  | { readonly kind: 'regex'; readonly regex: RegexGenerator };

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

/** The constrained output text for this seed. Throws JsonSchemaError for an unsatisfiable schema. */
export function guidedText(spec: GuidedSpec, seed: number): string {
  const rng = createRandom(hashSeed(seed, 'guided'));
  switch (spec.kind) {
    case 'json':
      return pythonJson(generateFromSchema(spec.schema, seed));
    case 'json_object':
      return pythonJson(generateFromSchema(JSON_OBJECT_SCHEMA, seed));
    case 'choice':
      return spec.choices[rng.nextInt(spec.choices.length)] ?? '';
    case 'regex':
      return spec.regex.generate(rng);
  }
}
