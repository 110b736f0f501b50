/**
 * The official openai client against a live nimsim serving LoRA adapters from NIM_PEFT_SOURCE
 * (docs/lora.md): models.list shows each adapter with its base model as `parent`, and chat with an
 * adapter as the model works, streaming included, with the adapter's own prefix cache.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hfAdapter, peftSourceDir } from '../helpers/lora-dirs.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';
const source = peftSourceDir();
const adapterPath = hfAdapter(source.dir, 'llama3.1-8b-sql', { r: 8, target_modules: ['q_proj', 'v_proj'] });
const messages: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'system', content: Array.from({ length: 80 }, (_, i) => `rule ${i}: answer in SQL.`).join(' ') },
  { role: 'user', content: 'Count the orders per customer.' },
];

/** `prompt_tokens_details`, which openai's usage type declares optional. */
const cached = (usage: OpenAI.CompletionUsage | undefined) => usage?.prompt_tokens_details?.cached_tokens;

let server: LiveServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startLiveServer({ peftSource: source.dir });
  client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'not-used', maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
  source.cleanup();
});

describe('LoRA adapters through the openai client', () => {
  it('models.list shows the adapter after the base model, its parent the base model', async () => {
    const models: (OpenAI.Model & { parent?: string | null; root?: string })[] = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models.map((m) => m.id)).toEqual([MODEL, 'llama3.1-8b-sql']);
    expect(models[1]).toMatchObject({ object: 'model', parent: MODEL, root: adapterPath });
  });

  it('chat.completions.create with the adapter as the model answers under its name, cached on a repeat', async () => {
    const first = await client.chat.completions.create({ model: 'llama3.1-8b-sql', messages, max_tokens: 8 });
    expect(first.model).toBe('llama3.1-8b-sql');
    expect(first.choices[0]!.message.content).toBeTruthy();
    expect(cached(first.usage)).toBe(0);
    const again = await client.chat.completions.create({ model: 'llama3.1-8b-sql', messages, max_tokens: 8 });
    expect(cached(again.usage)).toBeGreaterThan(0);
    const base = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 8 });
    expect(cached(base.usage)).toBe(0);
  });

  it('streams with the adapter as the model', async () => {
    const stream = await client.chat.completions.create({
      model: 'llama3.1-8b-sql',
      messages,
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      expect(chunk.model).toBe('llama3.1-8b-sql');
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(usage!.completion_tokens).toBe(5);
  });

  it('raises NotFoundError for an adapter that is not loaded', async () => {
    await expect(
      client.chat.completions.create({ model: 'no-such-lora', messages, max_tokens: 1 }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});
