import { describe, expect, it } from 'vitest';

import {
  applyChatTemplate,
  ChatTemplateError,
  encodeCompletionPrompt,
  renderChatTemplate,
  type ChatMessage,
} from '../../src/content/chat-template.js';
import { MAX_JSON_DEPTH, pythonStrip } from '../../src/content/python-json.js';
import { planOutput } from '../../src/content/output-plan.js';
import { createTokenizer } from '../../src/content/tokenizer.js';

const tokenizer = createTokenizer('llama3');
const EOT = 128009;

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather of a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1.5e-7 } },
      required: ['city'],
    },
  },
};

describe('renderChatTemplate', () => {
  it('always writes the Llama 3.1 system turn with the knowledge and today dates', () => {
    expect(renderChatTemplate([{ role: 'user', content: 'Hello!' }], { addGenerationPrompt: true })).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n' +
        'Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('puts a leading system message after the dates and trims every content', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: '  Be brief.\n' },
      {
        role: 'user',
        content: [{ type: 'text', text: ' Part one' }, { type: 'image_url' }, { type: 'text', text: 'two ' }],
      },
    ];
    expect(renderChatTemplate(messages, { addGenerationPrompt: false, date: '01 Jan 2026' })).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n' +
        'Cutting Knowledge Date: December 2023\nToday Date: 01 Jan 2026\n\nBe brief.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nPart one\ntwo<|eot_id|>',
    );
  });

  it('lists tools in the first user message as indented JSON, the way the template does', () => {
    const text = renderChatTemplate([{ role: 'user', content: 'Weather in Oslo?' }], {
      addGenerationPrompt: true,
      tools: [WEATHER_TOOL],
    });
    expect(text).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\n' +
        'Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\n' +
        'Given the following functions, please respond with a JSON for a function call with its proper ' +
        'arguments that best answers the given prompt.\n\n' +
        'Respond in the format {"name": function name, "parameters": dictionary of argument name and its ' +
        'value}.Do not use variables.\n\n' +
        '{\n    "type": "function",\n    "function": {\n        "name": "get_weather",\n' +
        '        "description": "Current weather of a city",\n        "parameters": {\n' +
        '            "type": "object",\n            "properties": {\n                "city": {\n' +
        '                    "type": "string"\n                },\n                "days": {\n' +
        '                    "type": "integer",\n                    "minimum": 1.5e-07\n' +
        '                }\n            },\n            "required": [\n                "city"\n' +
        '            ]\n        }\n    }\n}\n\n' +
        'Weather in Oslo?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('adds the null description and parameters that vLLM dumps for a bare tool', () => {
    const text = renderChatTemplate([{ role: 'user', content: 'Hi' }], {
      addGenerationPrompt: false,
      tools: [{ type: 'function', function: { name: 'ping' } }],
    });
    expect(text).toContain(
      '{\n    "type": "function",\n    "function": {\n        "name": "ping",\n' +
        '        "description": null,\n        "parameters": null\n    }\n}\n\nHi<|eot_id|>',
    );
  });

  it('renders an assistant tool call as name and parameters JSON and a tool result as ipython', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Oslo","days":2}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'Rain, 8 C' },
    ];
    expect(renderChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n' +
        'Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nWeather in Oslo?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n' +
        '{"name": "get_weather", "parameters": {"city": "Oslo", "days": 2}}<|eot_id|>' +
        '<|start_header_id|>ipython<|end_header_id|>\n\n"Rain, 8 C"<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('refuses more than one tool call in a message, as the model template does', () => {
    const call = { function: { name: 'f', arguments: '{}' } };
    const messages: ChatMessage[] = [
      { role: 'user', content: 'x' },
      { role: 'assistant', tool_calls: [call, call] },
    ];
    expect(() => renderChatTemplate(messages, { addGenerationPrompt: true })).toThrow(ChatTemplateError);
    expect(() => renderChatTemplate(messages, { addGenerationPrompt: true })).toThrow(
      'This model only supports single tool-calls at once!',
    );
  });

  it('takes several calls back in one message for a model that makes parallel calls, as it wrote them', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: 'x' },
      {
        role: 'assistant',
        tool_calls: [
          { function: { name: 'f', arguments: '{"city": "Paris"}' } },
          { function: { name: 'f', arguments: { city: 'London' } } },
        ],
      },
    ];
    expect(renderChatTemplate(messages, { addGenerationPrompt: false, parallelToolCalls: true })).toContain(
      '<|start_header_id|>assistant<|end_header_id|>\n\n' +
        '{"name": "f", "parameters": {"city": "Paris"}}; {"name": "f", "parameters": {"city": "London"}}<|eot_id|>',
    );
  });

  it('refuses tools when there is no user message to carry them', () => {
    expect(() =>
      renderChatTemplate([{ role: 'system', content: 'x' }], {
        addGenerationPrompt: true,
        tools: [WEATHER_TOOL],
      }),
    ).toThrow(ChatTemplateError);
  });
});

describe('pythonStrip', () => {
  it("strips exactly Python's str.isspace() characters from both ends", () => {
    // Every BMP character Python counts as whitespace (none lies outside the BMP).
    const pySpace = [
      9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199,
      8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288,
    ].map((c) => String.fromCharCode(c));
    const all = pySpace.join('');
    expect(pythonStrip(`${all}a b${all}`)).toBe('a b');
    expect(pythonStrip(all)).toBe('');
    // Not whitespace to Python (JS trim strips U+FEFF; \u200b is a format character).
    expect(pythonStrip('\ufeffx\u200b')).toBe('\ufeffx\u200b');
    expect(pythonStrip('')).toBe('');
  });

  it('costs linear time on a long inner run of whitespace (the old /[…]+$/ was quadratic)', () => {
    // 100k spaces took ~9 s with the end-anchored regular expression.
    const content = 'x' + ' '.repeat(100_000) + 'x';
    const start = performance.now();
    expect(pythonStrip(content)).toBe(content);
    expect(pythonStrip(`  ${content}\n`)).toBe(content);
    expect(
      renderChatTemplate(
        [
          { role: 'system', content },
          { role: 'user', content },
        ],
        {
          addGenerationPrompt: true,
        },
      ),
    ).toContain(content);
    expect(performance.now() - start).toBeLessThan(1_500);
  });
});

describe('nesting limits', () => {
  const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

  it('refuses tool call arguments nested deeper than MAX_JSON_DEPTH instead of overflowing the stack', () => {
    const messages = (args: string): ChatMessage[] => [
      { role: 'user', content: 'x' },
      { role: 'assistant', tool_calls: [{ function: { name: 'f', arguments: args } }] },
    ];
    expect(renderChatTemplate(messages(nested(MAX_JSON_DEPTH)), { addGenerationPrompt: true })).toContain(
      nested(MAX_JSON_DEPTH),
    );
    for (const depth of [MAX_JSON_DEPTH + 1, 100_000]) {
      expect(() => renderChatTemplate(messages(nested(depth)), { addGenerationPrompt: true })).toThrow(
        new ChatTemplateError(`tool call arguments: JSON nested deeper than ${MAX_JSON_DEPTH} levels`),
      );
    }
  });
});

describe('applyChatTemplate', () => {
  it('gives the exact Llama 3.1 prompt ids of a one-message conversation', () => {
    expect(
      applyChatTemplate(tokenizer, [{ role: 'user', content: 'Hello!' }], { addGenerationPrompt: true }),
    ).toEqual([
      128000, 128006, 9125, 128007, 271, 38766, 1303, 33025, 2696, 25, 6790, 220, 2366, 18, 198, 15724, 2696,
      25, 220, 1627, 10263, 220, 2366, 19, 271, 128009, 128006, 882, 128007, 271, 9906, 0, 128009, 128006,
      78191, 128007, 271,
    ]);
  });

  it('equals encoding the rendered text, for a conversation with tools, calls and odd whitespace', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: '  You are terse.  ' },
      { role: 'user', content: 'Weather in Oslo?\n' },
      {
        role: 'assistant',
        tool_calls: [{ function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
      },
      { role: 'tool', content: 'Rain,\n8 C' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'It rains.' },
          { type: 'text', text: '  Take a coat!' },
        ],
      },
      { role: 'user', content: '\n\n  Thanks <|eot_id|> 123 ok\n' },
      { role: 'assistant', content: '' },
    ];
    for (const tools of [undefined, [WEATHER_TOOL]]) {
      const opts = { addGenerationPrompt: true, tools };
      expect(applyChatTemplate(tokenizer, messages, opts)).toEqual(
        tokenizer.encode(renderChatTemplate(messages, opts)),
      );
    }
  });

  it("starts turn two's prompt with turn one's prompt, its generated answer and <|eot_id|>", () => {
    const system: ChatMessage = { role: 'system', content: 'You are a helpful assistant.' };
    const question: ChatMessage = { role: 'user', content: 'Tell me about trains.' };
    const turnOne = applyChatTemplate(tokenizer, [system, question], { addGenerationPrompt: true });
    for (const [seed, ignoreEos] of [
      [1, false],
      [2, false],
      [3, true],
      [4, true],
    ] as const) {
      const answer = planOutput({ tokenizer, seed, maxTokens: 120, ignoreEos });
      const generated = answer.tokenIds.at(-1) === EOT ? answer.tokenIds : [...answer.tokenIds, EOT];
      const turnTwo = applyChatTemplate(
        tokenizer,
        [
          system,
          question,
          { role: 'assistant', content: answer.text },
          { role: 'user', content: 'And buses?' },
        ],
        { addGenerationPrompt: true },
      );
      expect(turnTwo.slice(0, turnOne.length + generated.length)).toEqual([...turnOne, ...generated]);
    }
  });
});

describe('encodeCompletionPrompt', () => {
  it('prepends BOS to the encoded prompt, as vLLM does for Llama 3', () => {
    expect(encodeCompletionPrompt(tokenizer, 'Hello world!')).toEqual([128000, 9906, 1917, 0]);
  });
});
