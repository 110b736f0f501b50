import { describe, expect, it } from 'vitest';
import { planReply, type ReplySpec } from '../../src/content/reply.js';
import { createTokenizer } from '../../src/content/tokenizer.js';
import { planToolCallsText, toolCallDeltas } from '../../src/content/tool-call-text.js';
import { chooseToolCalls, MAX_PARALLEL_CALLS, type ToolDef } from '../../src/content/tool-calls.js';
import { createValidator } from '../helpers/ajv.js';

const tokenizer = createTokenizer('llama3');
const base = (seed: number) => ({ tokenizer, seed, maxTokens: 2000 });

const WEATHER: ToolDef = {
  name: 'get_weather',
  description: 'Get the current weather forecast for a city',
  parameters: {
    type: 'object',
    properties: {
      city: { type: 'string', minLength: 2 },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    },
    required: ['city', 'unit'],
    additionalProperties: false,
  },
};
const TIME: ToolDef = {
  name: 'get_local_time',
  description: 'Get the current local time in a city',
  parameters: {
    type: 'object',
    properties: { location: { type: 'string' }, format: { type: 'string', enum: ['12h', '24h'] } },
    required: ['location'],
  },
};
const STOCK: ToolDef = {
  name: 'get_stock_price',
  description: 'Look up the latest stock price of a ticker symbol',
  parameters: {
    type: 'object',
    properties: { symbol: { type: 'string', pattern: '^[A-Z]{1,5}$' } },
    required: ['symbol'],
  },
};

const parallel = (spec: ReplySpec): ReplySpec => ({ ...spec, maxToolCalls: MAX_PARALLEL_CALLS });

describe('choosing several calls', () => {
  const ctx = (lastUserText: string, maxCalls = MAX_PARALLEL_CALLS) => ({
    lastRole: 'user',
    lastUserText,
    seed: 3,
    maxCalls,
  });

  it('calls one tool once per place listed together, once for a route or places apart', () => {
    const three = chooseToolCalls([WEATHER], 'auto', ctx('Weather in Paris, London and Tokyo'));
    expect(three.map((c) => c.entity)).toEqual([0, 1, 2]);
    const route: ToolDef = {
      name: 'get_route',
      description: 'Get the driving route between two cities',
      parameters: {
        type: 'object',
        properties: { origin: { type: 'string' }, destination: { type: 'string' } },
        required: ['origin', 'destination'],
      },
    };
    const one = chooseToolCalls([route], 'auto', ctx('Driving route from Paris to London?'));
    expect(one.map((c) => [c.tool.name, c.entity])).toEqual([['get_route', 0]]);
    const spec = parallel({
      tools: [route],
      toolChoice: 'auto',
      lastUserText: 'Driving route from Paris to London?',
    });
    const plan = planReply(spec, base(5));
    expect(plan.toolCalls?.map((c) => JSON.parse(c.arguments) as unknown)).toEqual([
      { origin: 'Paris', destination: 'London' },
    ]);
    expect(chooseToolCalls([WEATHER], 'auto', ctx('Weather in Paris? I fly to London later.'))).toHaveLength(
      1,
    );
  });

  it('calls one tool once per place the message names', () => {
    const calls = chooseToolCalls([WEATHER], 'auto', ctx('What is the weather in Paris and London?'));
    expect(calls.map((c) => [c.tool.name, c.entity])).toEqual([
      ['get_weather', 0],
      ['get_weather', 1],
    ]);
  });

  it('calls each offered tool the message is about, and never more than the cap', () => {
    const both = chooseToolCalls(
      [WEATHER, TIME, STOCK],
      'auto',
      ctx('What is the weather and the local time in Paris?'),
    );
    expect(both.map((c) => c.tool.name).sort()).toEqual(['get_local_time', 'get_weather']);
    const many = chooseToolCalls(
      [WEATHER, TIME],
      'auto',
      ctx('Weather and local time in Paris, London, Rome and Oslo'),
    );
    expect(many).toHaveLength(MAX_PARALLEL_CALLS);
  });

  it('a word every tool shares calls none of the others ("current")', () => {
    const calls = chooseToolCalls([WEATHER, TIME], 'auto', ctx('What is the current weather in Oslo?'));
    expect(calls.map((c) => c.tool.name)).toEqual(['get_weather']);
  });

  it('one call for a model without parallel calls, a named choice, or nothing after a tool result', () => {
    expect(chooseToolCalls([WEATHER], 'auto', ctx('weather in Paris and London?', 1))).toHaveLength(1);
    expect(
      chooseToolCalls([WEATHER, TIME], { name: 'get_local_time' }, ctx('weather and time in Paris and Rome')),
    ).toHaveLength(1);
    expect(
      chooseToolCalls([WEATHER], 'auto', { ...ctx('weather in Paris and London'), lastRole: 'tool' }),
    ).toEqual([]);
  });
});

describe('the calls as the model writes them', () => {
  it('auto: calls joined by "; " as the llama3_json parser splits them, each with its own id and grounded city', () => {
    const plan = planReply(
      parallel({ tools: [WEATHER], toolChoice: 'auto', lastUserText: 'Weather in Paris and London?' }),
      base(1),
    );
    const calls = plan.toolCalls!;
    expect(calls.map((c) => c.index)).toEqual([0, 1]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);
    expect(calls.map((c) => (JSON.parse(c.arguments) as { city: string }).city)).toEqual(['Paris', 'London']);
    const objects = plan.text.split('; ').map((t) => JSON.parse(t) as { name: string; parameters: unknown });
    expect(objects.map((o) => o.name)).toEqual(['get_weather', 'get_weather']);
    objects.forEach((o, i) => expect(o.parameters).toEqual(JSON.parse(calls[i]!.arguments)));
    // Every call's text is in the tokens: the first call alone costs fewer.
    const single = planReply(
      { tools: [WEATHER], toolChoice: 'auto', lastUserText: 'Weather in Paris and London?' },
      base(1),
    );
    expect(single.toolCalls).toHaveLength(1);
    expect(plan.tokenIds.length).toBeGreaterThan(single.tokenIds.length);
    expect(tokenizer.decode(plan.tokenIds.filter((id) => !tokenizer.isSpecialToken(id)))).toBe(plan.text);
  });

  it('required: one JSON array of the calls', () => {
    const plan = planReply(
      parallel({ tools: [WEATHER, TIME], toolChoice: 'required', lastUserText: 'weather and time in Oslo' }),
      base(2),
    );
    const parsed = JSON.parse(plan.text) as { name: string }[];
    expect(parsed.map((p) => p.name)).toEqual(plan.toolCalls!.map((c) => c.name));
    expect(parsed.length).toBe(2);
  });

  it('a reply cut short by max_tokens is text, whichever call the cut falls in', () => {
    const spec = parallel({
      tools: [WEATHER],
      toolChoice: 'auto',
      lastUserText: 'Weather in Paris and Rome',
    });
    const full = planReply(spec, base(4));
    const n = full.tokenIds.length;
    for (const maxTokens of [3, Math.floor(n / 2), n - 2]) {
      const cut = planReply(spec, { ...base(4), maxTokens });
      expect(cut.toolCalls).toBe(undefined);
      expect(cut.finishReason).toBe('length');
      expect(cut.tokenIds).toHaveLength(maxTokens);
    }
  });

  it('over 20 seeds with two tools, some turns make two or more calls, every call valid against its schema', () => {
    const ajv = createValidator();
    const validators = new Map([WEATHER, TIME].map((t) => [t.name, ajv.compile(t.parameters as object)]));
    const messages = [
      'What is the weather in Paris?',
      'Weather and local time in Oslo please',
      'Is it raining in Lima or in Quito?',
      'What time is it in Tokyo?',
    ];
    let multi = 0;
    for (let seed = 0; seed < 20; seed++) {
      const plan = planReply(
        parallel({ tools: [WEATHER, TIME], toolChoice: 'auto', lastUserText: messages[seed % 4]! }),
        base(seed),
      );
      const calls = plan.toolCalls ?? [];
      if (calls.length >= 2) multi++;
      for (const call of calls) {
        expect(validators.get(call.name)!(JSON.parse(call.arguments)), call.arguments).toBe(true);
      }
    }
    expect(multi).toBeGreaterThan(0);
  });
});

describe('streamed deltas per call', () => {
  it('a new index opens each call (header first), its arguments follow, and they reassemble', () => {
    const plan = planReply(
      parallel({
        tools: [WEATHER, TIME],
        toolChoice: 'auto',
        lastUserText: 'weather and local time in Rome',
      }),
      base(5),
    );
    const calls = plan.toolCalls!;
    expect(calls).toHaveLength(2);
    const deltas = toolCallDeltas(plan.pieces, calls).flat();
    for (const call of calls) {
      const mine = deltas.filter((d) => d.index === call.index);
      expect(mine[0]!.header).toBe(true);
      expect(mine.filter((d) => d.header)).toHaveLength(1);
      expect(mine.map((d) => d.arguments).join('')).toBe(call.arguments);
    }
    // Calls stream in order: every delta of call 0 comes before call 1's header.
    const firstOf1 = deltas.findIndex((d) => d.index === 1);
    expect(deltas.slice(firstOf1).every((d) => d.index === 1)).toBe(true);
  });

  it('offsets point at each call inside the text', () => {
    const { text, calls } = planToolCallsText(
      [
        { name: 'a', argsJson: '{"x": 1}' },
        { name: 'b', argsJson: '{}' },
      ],
      'auto',
      9,
    );
    expect(text).toBe('{"name": "a", "parameters": {"x": 1}}; {"name": "b", "parameters": {}}');
    for (const call of calls) {
      expect(text.slice(call.argsStart, call.argsStart + call.arguments.length)).toBe(call.arguments);
      expect(text.slice(0, call.nameEnd).endsWith(`"${call.name}"`)).toBe(true);
    }
  });
});
