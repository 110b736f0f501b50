/* eslint-disable @typescript-eslint/no-explicit-any -- wire bodies are read loosely, then asserted exactly */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config.js';
import { parseRules, RulesFileError } from '../../src/content/rules/rules-file.js';
import { createRuleStore } from '../../src/content/rules/rule-store.js';
import { postJson, readSse, testService } from '../helpers/service.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const dir = mkdtempSync(join(tmpdir(), 'nimsim-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rulesFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const RULES_YAML = `
rules:
  - name: greeting
    match: { user_contains: hello }
    reply: { content: "Hello from nimsim!" }
  - name: echo-template
    match: { user_regex: "^repeat: (.+)$", system_contains: pirate }
    reply: { template: "Arr, {{match.1}} (model {{model}}, case {{header.x-case}})" }
  - name: pieces
    match: { user_contains: stream me }
    reply: { chunks: ["One, ", "two, ", "three."] }
  - name: weather-call
    match: { has_tools: true, user_contains: weather }
    reply: { tool_call: { name: get_weather, arguments: { city: Paris } } }
  - name: after-tool
    match: { last_role: tool }
    reply: { template: "The tool said {{tool_result}}." }
  - name: structured
    match: { user_contains: as json }
    reply: { json: { ok: true, items: [1, 2] } }
  - name: rate-limited
    match: { headers: { x-scenario: throttle } }
    reply: { error: { status: 429, message: "Slow down." } }
  - name: teapot-ish
    match: { user_contains: explode }
    reply: { error: { status: 503, type: ServiceUnavailableError } }
  - name: slow
    match: { user_contains: slowly }
    reply: { latency_ms: 150, content: "Finally." }
  - name: completions-only
    match: { route: completions, user_contains: "Once upon" }
    reply: { content: " a time." }
`;

const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Get the weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

describe('rules from NIMSIM_RULES_FILE', () => {
  const service = testService({ rulesFile: rulesFile('rules.yaml', RULES_YAML) });
  const chat = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await postJson(service, '/v1/chat/completions', { model: MODEL, ...body }, headers);
    return { status: res.status, body: (await res.json()) as any };
  };

  it('answers a matched prompt with fixed content, counting its tokens', async () => {
    const { status, body } = await chat({ messages: [{ role: 'user', content: 'well hello there' }] });
    expect(status).toBe(200);
    expect(body.choices[0].message.content).toBe('Hello from nimsim!');
    expect(body.choices[0].finish_reason).toBe('stop');
    // The text's own tokens plus <|eot_id|>.
    expect(body.usage.completion_tokens).toBe(
      service.runtime.tokenizer.encode('Hello from nimsim!').length + 1,
    );
  });

  it('fills a template from the regex groups, the model and a header', async () => {
    const { body } = await chat(
      {
        messages: [
          { role: 'system', content: 'You are a pirate.' },
          { role: 'user', content: 'repeat: treasure ahoy' },
        ],
      },
      { 'x-case': 'T-7' },
    );
    expect(body.choices[0].message.content).toBe(`Arr, treasure ahoy (model ${MODEL}, case T-7)`);
  });

  it('streams chunks exactly as given', async () => {
    const res = await postJson(service, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'please stream me something' }],
      stream: true,
    });
    const frames = (await readSse(res)) as any[];
    const contents = frames
      .filter((f) => f !== '[DONE]' && f.choices[0]?.delta?.content)
      .map((f) => f.choices[0].delta.content);
    expect(contents).toEqual(['One, ', 'two, ', 'three.']);
  });

  it('makes the scripted tool call, then answers the tool result with a template', async () => {
    const first = await chat({ messages: [{ role: 'user', content: 'weather in Paris?' }], tools: TOOLS });
    const call = first.body.choices[0].message.tool_calls[0];
    expect(first.body.choices[0].finish_reason).toBe('tool_calls');
    expect(call.function).toEqual({ name: 'get_weather', arguments: '{"city": "Paris"}' });
    const second = await chat({
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '18 C and sunny' },
      ],
      tools: TOOLS,
    });
    expect(second.body.choices[0].message.content).toBe('The tool said 18 C and sunny.');
    expect(second.body.choices[0].finish_reason).toBe('stop');
    expect(second.body.choices[0].message.tool_calls).toEqual([]);
  });

  it('sends a structured object as its JSON text', async () => {
    const { body } = await chat({ messages: [{ role: 'user', content: 'answer as json' }] });
    expect(JSON.parse(body.choices[0].message.content)).toEqual({ ok: true, items: [1, 2] });
  });

  it('answers with the scripted error status and type', async () => {
    const throttled = await chat(
      { messages: [{ role: 'user', content: 'hi' }] },
      { 'x-scenario': 'throttle' },
    );
    expect(throttled.status).toBe(429);
    expect(throttled.body.error).toEqual({
      message: 'Slow down.',
      type: 'RateLimitError',
      param: null,
      code: 429,
    });
    const down = await chat({ messages: [{ role: 'user', content: 'explode now' }] });
    expect(down.status).toBe(503);
    expect(down.body.error.type).toBe('ServiceUnavailableError');
    expect(down.body.error.message).toBe('Scripted error from rule teapot-ish.');
  });

  it('adds the scripted latency in wall time even at time scale 0', async () => {
    const start = performance.now();
    const { body } = await chat({ messages: [{ role: 'user', content: 'answer slowly' }] });
    expect(performance.now() - start).toBeGreaterThanOrEqual(145);
    expect(body.choices[0].message.content).toBe('Finally.');
  });

  it('matches the completions route on its prompt and leaves other requests to generation', async () => {
    const res = await postJson(service, '/v1/completions', {
      model: MODEL,
      prompt: 'Once upon',
      max_tokens: 20,
    });
    expect(((await res.json()) as any).choices[0].text).toBe(' a time.');
    const { body } = await chat({ messages: [{ role: 'user', content: 'Once upon' }], seed: 3 });
    expect(body.choices[0].message.content).not.toBe(' a time.');
    expect(body.choices[0].message.content.length).toBeGreaterThan(0);
  });

  it('is replaced at run time by PATCH /admin/config', async () => {
    const admin = testService({ adminToken: 'tok' });
    const auth = { authorization: 'Bearer tok', 'content-type': 'application/json' };
    const patch = (body: unknown) =>
      admin.app.request('/admin/config', { method: 'PATCH', headers: auth, body: JSON.stringify(body) });
    const ok = await patch({ rules: [{ match: { user_contains: 'ping' }, reply: { content: 'pong' } }] });
    expect(ok.status).toBe(200);
    const res = await postJson(admin, '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: 'ping' }],
    });
    expect(((await res.json()) as any).choices[0].message.content).toBe('pong');
    const bad = await patch({ rules: [{ reply: { content: 'a', error: { status: 500 } } }] });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toBe(
      'rules: 0.reply: reply has more than one action: content, error',
    );
  });
});

describe('rules file validation', () => {
  it('names the line and the problem', () => {
    const text =
      'rules:\n  - match: { user_contains: hi }\n    reply:\n      content: hi\n      colour: red\n';
    expect(() => parseRules(text, 'rules.yaml')).toThrow(
      new RulesFileError('rules.yaml', 'rules.0.reply: Unrecognized key: "colour"', 5),
    );
    expect(() => parseRules('- reply: { error: { status: 200 } }\n', 'r.yaml')).toThrow(
      'r.yaml:1: 0.reply.error.status: Too small: expected number to be >=400',
    );
    expect(() => parseRules('rules:\n  - reply: {}\n', 'r.yaml')).toThrow(
      'r.yaml:2: rules.0.reply: reply needs one of content, template, chunks, tool_call, tool_calls, json, error (or latency_ms alone)',
    );
    expect(() => parseRules('- reply: { template: "{{nope}}" }\n', 'r.yaml')).toThrow(
      'unknown template placeholder {{nope}}',
    );
    expect(() => parseRules('- match: { user_regex: "(" }\n  reply: { content: x }\n', 'r.yaml')).toThrow(
      'r.yaml:1: 0.match.user_regex: invalid regex',
    );
    // A pattern that can backtrack catastrophically on client text is refused with the reason.
    expect(() =>
      parseRules('- match: { user_regex: "(a+)+$" }\n  reply: { content: x }\n', 'r.yaml'),
    ).toThrow(/^r\.yaml:1: 0\.match\.user_regex: invalid regex: .*nested/);
    expect(() => parseRules('rules: [\n', 'r.yaml')).toThrow(/^r\.yaml:\d+: /);
  });

  it('accepts JSON as well as YAML', () => {
    const rules = parseRules('[{"match": {"model": "m"}, "reply": {"content": "x"}}]', 'r.json');
    expect(rules).toEqual([{ match: { model: 'm' }, reply: { content: 'x' } }]);
  });

  it("reports a JSON file's syntax error with JSON's message at its line and column", () => {
    const truncated = '{"rules": [\n  {"match": {"model": "m"},\n   "reply": {"content": "x"';
    expect(() => parseRules(truncated, 'rules.json')).toThrow(
      new RulesFileError('rules.json', "invalid JSON: Expected ',' or '}' after property value", 3, 28),
    );
    expect(() => parseRules('[{"reply": {"content": "x"},}]', 'r.JSON')).toThrow(
      /^r\.JSON:1:29: invalid JSON: /,
    );
    // The same text in a YAML file is YAML's business.
    expect(() => parseRules(truncated, 'rules.yaml')).toThrow(/^rules\.yaml:\d+: (?!invalid JSON)/);
  });

  it('stops the service at start with a ConfigError naming the setting', () => {
    const path = rulesFile('bad.yaml', '- reply: { content: 1 }\n');
    expect(() => testService({ rulesFile: path })).toThrow(ConfigError);
    expect(() => testService({ rulesFile: path })).toThrow(
      `--rules-file=${path}: line 1: 0.reply.content: Invalid input: expected string, received number`,
    );
  });

  it('reloads when the file changes and keeps the last good rules on a bad edit', async () => {
    const path = rulesFile('live.yaml', '- reply: { content: one }\n');
    const errors: string[] = [];
    let reloads = 0;
    const store = createRuleStore({
      file: path,
      watch: true,
      onReload: () => reloads++,
      onReloadError: (e) => errors.push(e.message),
    });
    try {
      expect(store.rules()[0]?.reply.content).toBe('one');
      writeFileSync(path, '- reply: { content: two }\n');
      await waitFor(() => reloads > 0);
      expect(store.rules()[0]?.reply.content).toBe('two');
      writeFileSync(path, '- reply: { content: [broken }\n');
      await waitFor(() => errors.length > 0);
      expect(store.rules()[0]?.reply.content).toBe('two');
    } finally {
      store.close();
    }
  });
});

async function waitFor(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
