/**
 * What one JSON Schema can cost: documents beyond the bounds are refused naming the keyword and
 * place; generation spends a character budget and stops where it runs out, its text then a prefix
 * of the full value's; every loop is linear; the shapes that used to crash or hang are errors.
 */
import { describe, expect, it } from 'vitest';

import {
  MAX_SCHEMA_CONTAINERS,
  MAX_SCHEMA_COUNT,
  MAX_SCHEMA_DEPTH,
  schemaBoundsProblem,
} from '../../src/content/json-schema-bounds.js';
import {
  generateJson,
  JsonSchemaError,
  schemaBudget,
  validateSchema,
} from '../../src/content/json-schema.js';
import { createValidator } from '../helpers/ajv.js';

/** `{"type":"array","items":…}` nested `depth` times around `leaf`, each with `minItems`. */
function nestedArrays(depth: number, leaf: unknown = { type: 'integer' }, minItems = 0): unknown {
  let schema = leaf;
  for (let i = 0; i < depth; i++) schema = { type: 'array', items: schema, minItems };
  return schema;
}

/** A JSON value nested `depth` levels deep, built without recursion. */
function nestedValue(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** 24 levels of $defs, each requiring two children of the next: 2^24 leaves from ~3 KB. */
function doublingDefs(levels: number): Record<string, unknown> {
  const defs: Record<string, unknown> = { l0: { type: 'integer', minimum: 0, maximum: 9 } };
  for (let i = 1; i <= levels; i++) {
    const ref = { $ref: `#/$defs/l${i - 1}` };
    defs[`l${i}`] = { type: 'object', properties: { a: ref, b: ref }, required: ['a', 'b'] };
  }
  return { $defs: defs, $ref: `#/$defs/l${levels}` };
}

const timed = <T>(run: () => T): { result: T; ms: number } => {
  const start = performance.now();
  const result = run();
  return { result, ms: performance.now() - start };
};

describe('schema bounds', () => {
  it('refuses a document nested deeper than MAX_SCHEMA_DEPTH, naming where, without recursion', () => {
    expect(schemaBoundsProblem(nestedArrays(MAX_SCHEMA_DEPTH / 2 - 1))).toBeUndefined();
    expect(schemaBoundsProblem(nestedArrays(MAX_SCHEMA_DEPTH))).toBe(
      `#${'/items'.repeat(MAX_SCHEMA_DEPTH)}: the schema nests deeper than ${MAX_SCHEMA_DEPTH} levels`,
    );
    // 100,000 levels (tool parameters like this gave a 500) and a const nested as deep.
    const { result, ms } = timed(() => schemaBoundsProblem(nestedArrays(100_000)));
    expect(result).toMatch(/nests deeper than 64 levels$/);
    expect(ms).toBeLessThan(1_000);
    expect(schemaBoundsProblem({ const: nestedValue(100_000) })).toMatch(
      /^#\/const(\/0)+: the schema nests deeper/,
    );
  });

  it('refuses more than MAX_SCHEMA_CONTAINERS objects and arrays', () => {
    const wide = (n: number) => ({
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: 'integer' }])),
    });
    expect(schemaBoundsProblem(wide(MAX_SCHEMA_CONTAINERS - 2))).toBeUndefined();
    expect(schemaBoundsProblem(wide(MAX_SCHEMA_CONTAINERS))).toBe(
      `the schema has more than ${MAX_SCHEMA_CONTAINERS} objects and arrays`,
    );
  });

  it('refuses minItems, minProperties and minLength above MAX_SCHEMA_COUNT, naming keyword and place', () => {
    expect(schemaBoundsProblem({ type: 'array', minItems: 1e8 })).toBe(
      '#: minItems 100000000 is above the limit of 100000',
    );
    expect(schemaBoundsProblem({ properties: { x: { type: 'object', minProperties: 1e6 } } })).toBe(
      '#/properties/x: minProperties 1000000 is above the limit of 100000',
    );
    expect(schemaBoundsProblem({ $defs: { 'a/b': { anyOf: [{ minLength: MAX_SCHEMA_COUNT + 1 }] } } })).toBe(
      '#/$defs/a~1b/anyOf/0: minLength 100001 is above the limit of 100000',
    );
    expect(schemaBoundsProblem({ type: 'string', minLength: MAX_SCHEMA_COUNT })).toBeUndefined();
    // Data is not schema: a const or enum value may hold such keys.
    expect(schemaBoundsProblem({ const: { minItems: 1e9 }, enum: [{ minLength: 1e9 }] })).toBeUndefined();
  });

  it('is enforced by generateJson and validateSchema', () => {
    expect(() => validateSchema({ type: 'array', minItems: 1e8 })).toThrow(
      new JsonSchemaError('#: minItems 100000000 is above the limit of 100000'),
    );
    expect(() => generateJson(nestedArrays(100_000), 0, 1000)).toThrow(JsonSchemaError);
  });
});

describe('generation budget', () => {
  it('stops when the budget runs out, its text a prefix of the unbounded value', () => {
    const schema = { type: 'array', minItems: 50_000, items: { type: 'string', format: 'uuid' } };
    const full = generateJson(schema, 3, 10_000_000);
    expect(full.truncated).toBe(false);
    const cut = generateJson(schema, 3, 5_000);
    expect(cut.truncated).toBe(true);
    expect(cut.text.length).toBe(5_000);
    expect(full.text.startsWith(cut.text)).toBe(true);
  });

  it('ties the budget to max_tokens: 16 characters per token plus 1 KB', () => {
    expect(schemaBudget(100)).toBe(100 * 16 + 1024);
    expect(schemaBudget(0)).toBe(1024);
  });

  it('costs what the budget allows for schemas whose value is astronomically large', () => {
    const cases: [string, unknown][] = [
      ['2^24 leaves from 24 levels of $defs', doublingDefs(24)],
      ['arrays three deep with minItems 1000', nestedArrays(3, { type: 'integer' }, 1000)],
      [
        'minItems 100000 of objects',
        { type: 'array', minItems: 100_000, items: { type: 'object', minProperties: 50 } },
      ],
    ];
    for (const [name, schema] of cases) {
      const { result, ms } = timed(() => generateJson(schema, 1, 200_000));
      expect(result.truncated, name).toBe(true);
      expect(result.text.length, name).toBeLessThanOrEqual(200_000);
      expect(ms, name).toBeLessThan(3_000);
      // The request-time check runs on a fixed small budget.
      expect(timed(() => validateSchema(schema)).ms, name).toBeLessThan(2_000);
    }
  });

  it('writes a 60,000-character minLength string in linear time (it was quadratic, 7 s)', () => {
    const schema = { type: 'string', minLength: 60_000 };
    const { result, ms } = timed(() => generateJson(schema, 2, 1_000_000));
    expect(ms).toBeLessThan(2_000);
    const value = JSON.parse(result.text) as string;
    expect(value.length).toBeGreaterThanOrEqual(60_000);
    expect(createValidator().validate(schema, value)).toBe(true);
  });
});

describe('refusing a value no answer can hold', () => {
  const refused = (schema: unknown, budget: number) => () =>
    generateJson(schema, 0, budget, { refuseOversized: true });

  it('refuses before writing when the smallest value exceeds the budget, however it multiplies', () => {
    const { ms } = timed(() =>
      expect(refused(doublingDefs(24), schemaBudget(131_072))).toThrow(
        new JsonSchemaError(
          '#: the smallest value the schema allows has at least 251,658,226 characters, more than the 2,098,176 that max_tokens allows',
        ),
      ),
    );
    expect(ms).toBeLessThan(1_000);
    expect(refused(nestedArrays(3, { type: 'integer' }, 1000), schemaBudget(131_072))).toThrow(
      'at least 3,002,002,000 characters',
    );
    expect(refused({ type: 'string', minLength: 20_000 }, schemaBudget(1000))).toThrow(
      'at least 20,002 characters, more than the 17,024',
    );
  });

  it('refuses a value that can never end, and measures recursion through optional parts as absent', () => {
    const endless = {
      $defs: { n: { type: 'object', properties: { next: { $ref: '#/$defs/n' } }, required: ['next'] } },
      $ref: '#/$defs/n',
    };
    expect(refused(endless, 1_000_000)).toThrow('allows no value of finite length');
    const tree = {
      $defs: {
        a: { anyOf: [{ $ref: '#/$defs/b' }, { type: 'null' }] },
        b: { type: 'object', properties: { x: { $ref: '#/$defs/a' } }, required: ['x'] },
      },
      type: 'object',
      properties: { p: { $ref: '#/$defs/b' }, q: { $ref: '#/$defs/a' } },
      required: ['p', 'q'],
    };
    // Smallest: {"p": {"x": null}, "q": null}, 29 characters.
    expect(refused(tree, 28)).toThrow('at least 29 characters');
    expect(() => refused(tree, 29)()).not.toThrow();
    const value = JSON.parse(refused(tree, 10_000)().text) as unknown;
    expect(createValidator().validate(tree, value)).toBe(true);
  });

  it('accepts what fits, and generates it whole', () => {
    const result = generateJson(doublingDefs(10), 4, schemaBudget(10_000), { refuseOversized: true });
    expect(result.truncated).toBe(false);
    expect(createValidator().validate(doublingDefs(10), JSON.parse(result.text))).toBe(true);
  });
});

describe('schemas that crashed or hung', () => {
  it.each([
    [{ $ref: '#/%' }, '#: $ref #/% is not a valid JSON pointer'],
    [
      { $defs: { a: { allOf: [{ $ref: '#/$defs/a' }] } }, $ref: '#/$defs/a' },
      '#/allOf/0: $ref or allOf refers back to itself',
    ],
    [{ $ref: '#' }, '#: $ref or allOf refers back to itself'],
    [
      { type: 'number', minimum: 1e308, maximum: 1.7e308, multipleOf: 1e-300 },
      '#: no number satisfies the bounds',
    ],
    [
      { type: 'string', pattern: '(a{1000}){1000}' },
      '#/pattern: regex expands to 1,000,000 characters, more than 100,000',
    ],
  ])('refuses %j', (schema, message) => {
    const { ms } = timed(() => expect(() => validateSchema(schema)).toThrow(new JsonSchemaError(message)));
    expect(ms).toBeLessThan(1_000);
  });

  it('finds an integer above an exclusive minimum of 1e300 (the grid search looped forever)', () => {
    const schema = { type: 'integer', exclusiveMinimum: 1e300 };
    const value = JSON.parse(generateJson(schema, 0, 1000).text) as number;
    expect(value).toBeGreaterThan(1e300);
    expect(createValidator().validate(schema, value)).toBe(true);
  });

  it('writes required names such as constructor and __proto__ as own keys', () => {
    const schema = { type: 'object', required: ['constructor', '__proto__', 'toString'] };
    const text = generateJson(schema, 0, 1000).text;
    const value = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['constructor', '__proto__', 'toString']);
    expect(createValidator().validate(schema, value)).toBe(true);
  });
});
