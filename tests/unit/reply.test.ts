import { describe, expect, it } from 'vitest';
import { guidedRegex } from '../../src/content/guided.js';
import { generateJson, JsonSchemaError, schemaBudget } from '../../src/content/json-schema.js';
import { planReply, type ReplySpec } from '../../src/content/reply.js';
import { createTokenizer } from '../../src/content/tokenizer.js';
import { toolCallDeltas } from '../../src/content/tool-call-text.js';
import { chooseTool, type ToolDef } from '../../src/content/tool-calls.js';
import { createValidator } from '../helpers/ajv.js';

const tokenizer = createTokenizer('llama3');
const base = (seed: number) => ({ tokenizer, seed, maxTokens: 2000 });

const TOOLS: ToolDef[] = [
  {
    name: 'get_weather',
    description: 'Get the current weather forecast for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', minLength: 2 },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer', minimum: 1, maximum: 14 },
      },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
  },
  {
    name: 'book_flight',
    description: 'Book a flight ticket between two airports',
    parameters: {
      type: 'object',
      $defs: { airport: { type: 'string', pattern: '^[A-Z]{3}$' } },
      properties: {
        from: { $ref: '#/$defs/airport' },
        to: { $ref: '#/$defs/airport' },
        date: { type: 'string', format: 'date' },
        passengers: {
          type: 'array',
          minItems: 1,
          maxItems: 3,
          items: {
            type: 'object',
            properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
            required: ['name', 'email'],
          },
        },
        class: { anyOf: [{ const: 'economy' }, { const: 'business' }] },
      },
      required: ['from', 'to', 'date', 'passengers'],
    },
  },
  { name: 'ping', description: 'Check that the service answers' },
];

describe('tool calls', () => {
  it('required: 300 seeded calls whose arguments validate against the tool schema, streamed deltas reassembling them', () => {
    const ajv = createValidator();
    const validators = new Map(TOOLS.map((t) => [t.name, ajv.compile((t.parameters ?? {}) as object)]));
    const names = new Set<string>();
    for (let seed = 0; seed < 300; seed++) {
      const plan = planReply(
        { tools: TOOLS, toolChoice: 'required', lastUserText: 'do something' },
        base(seed),
      );
      expect(plan.toolCalls).toHaveLength(1);
      const call = plan.toolCalls![0]!;
      names.add(call.name);
      const args = JSON.parse(call.arguments) as unknown;
      expect(validators.get(call.name)!(args), `${seed}: ${call.arguments}`).toBe(true);
      // The model's text is the required array form; the tokens carry it.
      expect(JSON.parse(plan.text)).toEqual([{ name: call.name, parameters: args }]);
      const deltas = toolCallDeltas(plan.pieces, [call]).flat();
      expect(deltas.every((d) => d.index === 0)).toBe(true);
      expect(deltas.filter((d) => d.header)).toHaveLength(1);
      expect(deltas.map((d) => d.arguments).join('')).toBe(call.arguments);
      expect(deltas.filter((d) => d.arguments !== '').length).toBeGreaterThan(1);
    }
    expect(names).toEqual(new Set(['get_weather', 'book_flight', 'ping']));
  });

  it('auto: calls the tool the last message asks for, in llama3_json form, deterministically', () => {
    const spec: ReplySpec = {
      tools: TOOLS,
      toolChoice: 'auto',
      lastUserText: 'What is the weather in Oslo?',
    };
    const plan = planReply(spec, base(1));
    expect(plan.toolCalls?.[0]?.name).toBe('get_weather');
    expect(plan.toolCalls?.[0]?.style).toBe('auto');
    expect(plan.toolCalls?.[0]?.id).toMatch(/^chatcmpl-tool-[0-9a-f]{32}$/);
    const parsed = JSON.parse(plan.text) as { name: string; parameters: unknown };
    expect(parsed.name).toBe('get_weather');
    expect(JSON.stringify(parsed.parameters)).toBe(JSON.stringify(JSON.parse(plan.toolCalls![0]!.arguments)));
    expect(planReply(spec, base(1))).toEqual(plan);
    expect(
      planReply({ ...spec, lastUserText: 'Book me a flight to Rome' }, base(1)).toolCalls?.[0]?.name,
    ).toBe('book_flight');
  });

  it('auto answers in prose when nothing matches or after a tool result; none never calls', () => {
    expect(
      planReply({ tools: TOOLS, toolChoice: 'auto', lastUserText: 'Tell me a joke' }, base(2)).toolCalls,
    ).toBe(undefined);
    const afterTool = planReply(
      { tools: TOOLS, toolChoice: 'auto', lastUserText: 'weather in Oslo?', lastRole: 'tool' },
      base(2),
    );
    expect(afterTool.toolCalls).toBe(undefined);
    expect(afterTool.text.length).toBeGreaterThan(0);
    expect(chooseTool(TOOLS, 'none', { lastRole: 'user', lastUserText: 'weather', seed: 0 })).toBe(undefined);
  });

  it('named: the tokens are the arguments object alone', () => {
    const plan = planReply({ tools: TOOLS, toolChoice: { name: 'ping' }, lastUserText: 'weather?' }, base(3));
    expect(plan.toolCalls?.[0]).toMatchObject({ name: 'ping', style: 'named', arguments: '{}', nameEnd: 0 });
    expect(plan.text).toBe('{}');
  });

  it('a call cut short by max_tokens stays plain text', () => {
    const plan = planReply({ tools: TOOLS, toolChoice: 'required' }, { ...base(4), maxTokens: 5 });
    expect(plan.toolCalls).toBe(undefined);
    expect(plan.finishReason).toBe('length');
    expect(plan.tokenIds).toHaveLength(5);
  });
});

describe('guided output', () => {
  it('choice: always exactly one of the choices, all of them over 200 seeds', () => {
    const choices = ['positive', 'negative', 'neutral'];
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) {
      const plan = planReply({ guided: { kind: 'choice', choices } }, base(seed));
      expect(choices).toContain(plan.text);
      expect(plan.finishReason).toBe('stop');
      seen.add(plan.text);
    }
    expect(seen.size).toBe(3);
  });

  it('regex: 200 seeded outputs fully match', () => {
    const pattern = '[A-Z]{2}-\\d{3,5}( \\((draft|final)\\))?';
    for (let seed = 0; seed < 200; seed++) {
      const plan = planReply({ guided: guidedRegex(pattern) }, base(seed));
      expect(plan.text).toMatch(new RegExp(`^(?:${pattern})$`));
    }
  });

  it('json_object: 200 seeded outputs parse as objects', () => {
    for (let seed = 0; seed < 200; seed++) {
      const value = JSON.parse(planReply({ guided: { kind: 'json_object' } }, base(seed)).text) as unknown;
      expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true);
    }
  });

  it('a guided constraint gives way to a forced tool call', () => {
    const plan = planReply(
      { guided: { kind: 'choice', choices: ['x'] }, tools: TOOLS, toolChoice: { name: 'ping' } },
      base(5),
    );
    expect(plan.toolCalls?.[0]?.name).toBe('ping');
  });
});

describe('JSON within the max_tokens budget', () => {
  it('an answer longer than the budget matches the unbounded one up to max_tokens', () => {
    // Up to three 500-character strings: the smallest value ([]) fits the budget of 20 tokens
    // (20 x 16 + 1,024 characters), a drawn one of three strings does not.
    const schema = { type: 'array', items: { type: 'string', minLength: 500 }, maxItems: 3 };
    const maxTokens = 20;
    const seeds = Array.from({ length: 40 }, (_, seed) => seed).filter(
      (seed) => generateJson(schema, seed, schemaBudget(maxTokens)).truncated,
    );
    expect(seeds.length).toBeGreaterThan(3);
    for (const seed of seeds) {
      const plan = planReply({ guided: { kind: 'json', schema } }, { ...base(seed), maxTokens });
      expect(plan.finishReason).toBe('length');
      expect(plan.tokenIds).toHaveLength(maxTokens);
      const full = planReply({ guided: { kind: 'json', schema } }, { ...base(seed), maxTokens: 2000 });
      expect(full.finishReason).toBe('stop');
      expect(full.tokenIds.slice(0, maxTokens)).toEqual(plan.tokenIds);
    }
  });

  it('a generation that spends its budget on retries ends there with finish reason length, not stop', () => {
    // Every drawn string is 1,000 characters and never fits maxLength 5: 20 discarded draws per item.
    const schema = {
      type: 'array',
      items: { type: 'string', pattern: 'a{1000}', maxLength: 5 },
      minItems: 1,
      maxItems: 1,
    };
    const plan = planReply({ guided: { kind: 'json', schema } }, { ...base(1), maxTokens: 100 });
    expect(plan.text).toBe('[');
    expect(plan.finishReason).toBe('length');
    expect(plan.tokenIds).toEqual(tokenizer.encode('['));
  });

  it('refuses a schema whose smallest value cannot fit, naming the field', () => {
    const schema = { type: 'string', minLength: 50_000 };
    const guided = () =>
      planReply({ guided: { kind: 'json', schema, field: 'guided_json' } }, { ...base(1), maxTokens: 100 });
    expect(guided).toThrow(
      new JsonSchemaError(
        'guided_json: #: the smallest value the schema allows has at least 50,002 characters, more than the 2,624 that max_tokens allows',
        'guided_json',
      ),
    );
    const tools = [
      TOOLS[0]!,
      {
        name: 'huge',
        description: 'huge',
        parameters: { type: 'object', required: ['x'], properties: { x: schema } },
      },
    ];
    const error = (() => {
      try {
        planReply({ tools, toolChoice: { name: 'huge' } }, { ...base(1), maxTokens: 100 });
      } catch (err) {
        return err as JsonSchemaError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(JsonSchemaError);
    expect(error?.field).toBe('tools.1.function.parameters');
    expect(error?.message).toMatch(
      /^tools\.1\.function\.parameters: #: the smallest value the schema allows/,
    );
  });
});

describe('tool choice cost', () => {
  it('scores 512 tools against a 300 KB message in linear time (it split the message per tool: ~4 s)', () => {
    const tools = Array.from({ length: 512 }, (_, i) => ({
      name: `tool_${i}`,
      description: `Does thing number ${i} with widgets and gadgets`,
    }));
    const message = 'Please find the widget price for the gadget store. '.repeat(6_000);
    const start = performance.now();
    for (let seed = 0; seed < 4; seed++) {
      expect(chooseTool(tools, 'auto', { lastRole: 'user', lastUserText: message, seed })).toBeDefined();
    }
    expect(performance.now() - start).toBeLessThan(1_000);
  });
});
