import { describe, expect, it } from 'vitest';
import { generateFromSchema, JsonSchemaError } from '../../src/content/json-schema.js';
import { createValidator as validator } from '../helpers/ajv.js';

const SCHEMAS: Record<string, Record<string, unknown>> = {
  flat: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      age: { type: 'integer', minimum: 0, maximum: 130 },
      score: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
      active: { type: 'boolean' },
    },
    required: ['name', 'age', 'score', 'active'],
    additionalProperties: false,
  },
  enumsAndConst: {
    type: 'object',
    properties: {
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      version: { const: 3 },
      level: { enum: [1, 'two', null] },
    },
    required: ['unit', 'version', 'level'],
  },
  formats: {
    type: 'object',
    properties: {
      at: { type: 'string', format: 'date-time' },
      day: { type: 'string', format: 'date' },
      clock: { type: 'string', format: 'time' },
      email: { type: 'string', format: 'email' },
      id: { type: 'string', format: 'uuid' },
      site: { type: 'string', format: 'uri' },
      host: { type: 'string', format: 'hostname' },
      v4: { type: 'string', format: 'ipv4' },
      v6: { type: 'string', format: 'ipv6' },
    },
    required: ['at', 'day', 'clock', 'email', 'id', 'site', 'host', 'v4', 'v6'],
  },
  lengths: {
    type: 'object',
    properties: {
      code: { type: 'string', minLength: 3, maxLength: 5 },
      long: { type: 'string', minLength: 40 },
      sku: { type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' },
      tag: { type: 'string', pattern: '^(red|green|blue)?[0-9a-f]{2,6}$', maxLength: 11 },
    },
    required: ['code', 'long', 'sku', 'tag'],
  },
  numbers: {
    type: 'object',
    properties: {
      even: { type: 'integer', multipleOf: 2, minimum: -10, maximum: 10 },
      tenth: { type: 'number', multipleOf: 0.1, minimum: 0, maximum: 1 },
      big: { type: 'integer', minimum: 1_000_000 },
      neg: { type: 'number', maximum: -5 },
      quarter: { type: 'integer', multipleOf: 0.5, minimum: 1, maximum: 3 },
    },
    required: ['even', 'tenth', 'big', 'neg', 'quarter'],
  },
  nested: {
    type: 'object',
    properties: {
      order: {
        type: 'object',
        properties: {
          items: {
            type: 'array',
            minItems: 1,
            maxItems: 4,
            items: {
              type: 'object',
              properties: {
                sku: { type: 'string' },
                qty: { type: 'integer', minimum: 1, maximum: 9 },
                tags: { type: 'array', items: { type: 'string', enum: ['a', 'b', 'c'] }, uniqueItems: true },
              },
              required: ['sku', 'qty'],
            },
          },
          total: { type: ['number', 'null'] },
        },
        required: ['items', 'total'],
      },
    },
    required: ['order'],
  },
  combinators: {
    type: 'object',
    properties: {
      payment: {
        oneOf: [
          {
            type: 'object',
            properties: { kind: { const: 'card' }, last4: { type: 'string', pattern: '^\\d{4}$' } },
            required: ['kind', 'last4'],
          },
          {
            type: 'object',
            properties: { kind: { const: 'iban' }, iban: { type: 'string', minLength: 15, maxLength: 34 } },
            required: ['kind', 'iban'],
          },
        ],
      },
      note: { anyOf: [{ type: 'string', maxLength: 20 }, { type: 'null' }] },
      merged: {
        allOf: [
          { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] },
          { properties: { b: { type: 'boolean' } }, required: ['b'] },
        ],
      },
    },
    required: ['payment', 'note', 'merged'],
  },
  refs: {
    $defs: {
      address: {
        type: 'object',
        properties: { street: { type: 'string' }, zip: { type: 'string', pattern: '^[0-9]{5}$' } },
        required: ['street', 'zip'],
        additionalProperties: false,
      },
      node: {
        type: 'object',
        properties: {
          label: { type: 'string' },
          children: { type: 'array', items: { $ref: '#/$defs/node' } },
        },
        required: ['label'],
      },
    },
    type: 'object',
    properties: {
      home: { $ref: '#/$defs/address' },
      work: { $ref: '#/$defs/address' },
      tree: { $ref: '#/$defs/node' },
    },
    required: ['home', 'tree'],
  },
  arrays: {
    type: 'object',
    properties: {
      pair: {
        type: 'array',
        prefixItems: [{ type: 'string' }, { type: 'integer' }],
        items: false,
        minItems: 2,
      },
      fixed: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 3 }, minItems: 3, maxItems: 3 },
      unique: {
        type: 'array',
        items: { type: 'integer', minimum: 0, maximum: 5 },
        uniqueItems: true,
        minItems: 4,
      },
      props: { type: 'object', minProperties: 2, additionalProperties: { type: 'integer' } },
    },
    required: ['pair', 'fixed', 'unique', 'props'],
  },
  topLevelArray: { type: 'array', items: { type: 'string', format: 'email' }, minItems: 2, maxItems: 2 },
  untyped: { properties: { x: { minimum: 5, maximum: 6 } }, required: ['x'] },
};

describe('generateFromSchema', () => {
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    it(`produces 100 seeded values that validate against the ${name} schema`, () => {
      const validate = validator().compile(schema);
      for (let seed = 0; seed < 100; seed++) {
        const value = generateFromSchema(schema, seed);
        const ok = validate(value);
        if (!ok) throw new Error(`seed ${seed}: ${JSON.stringify(value)} ${JSON.stringify(validate.errors)}`);
        expect(ok).toBe(true);
      }
    });
  }

  it('honours draft-4 boolean exclusive bounds', () => {
    const schema = { type: 'number', minimum: 1, exclusiveMinimum: true, maximum: 2, exclusiveMaximum: true };
    for (let seed = 0; seed < 100; seed++) {
      const value = generateFromSchema(schema, seed) as number;
      expect(value > 1 && value < 2).toBe(true);
    }
  });

  it('is deterministic per seed and varies across seeds', () => {
    const a = generateFromSchema(SCHEMAS['nested'], 7);
    expect(generateFromSchema(SCHEMAS['nested'], 7)).toEqual(a);
    const distinct = new Set(
      Array.from({ length: 20 }, (_, s) => JSON.stringify(generateFromSchema(SCHEMAS['flat'], s))),
    );
    expect(distinct.size).toBe(20);
  });

  it('refuses schemas that cannot be met, naming where', () => {
    expect(() => generateFromSchema({ type: 'integer', minimum: 3, maximum: 2 }, 0)).toThrow(JsonSchemaError);
    expect(() =>
      generateFromSchema({ properties: { a: { $ref: '#/$defs/missing' } }, required: ['a'] }, 0),
    ).toThrow('#/properties/a: $ref #/$defs/missing not found');
    expect(() => generateFromSchema({ type: 'string', pattern: '(a)\\1' }, 0)).toThrow('backreference');
  });
});
