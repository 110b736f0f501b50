/**
 * Every catalog chat model counts with its own tokenizer and prompt format: /tokenize agrees with
 * usage.prompt_tokens, chat and completions, for each one (tokenizer-lazy.test.ts: the default
 * model's server loads no other vocabulary).
 */
import { describe, expect, it } from 'vitest';
import { MODELS } from '../../src/catalog/models.js';
import { loadedTokenizerFamilies } from '../../src/content/tokenizer.js';
import { postJson, testService } from '../helpers/service.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CHAT_MODELS = Object.values(MODELS).filter((m) => m.embedding === undefined);
const MESSAGES = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is the weather in Oslo, in celsius?' },
];
const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Get the weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

describe.each(CHAT_MODELS.map((m) => [m.name, m.tokenizer] as const))('%s (%s)', (model, family) => {
  const service = testService({ modelName: model, gpu: 'b200', gpus: '8', meanReasoningTokens: '10' });

  it('/tokenize counts the prompt usage.prompt_tokens bills, with and without tools', async () => {
    for (const tools of [undefined, TOOLS]) {
      const chat = (await (
        await postJson(service, '/v1/chat/completions', { model, messages: MESSAGES, tools, max_tokens: 1 })
      ).json()) as Json;
      const tok = (await (
        await postJson(service, '/tokenize', { model, messages: MESSAGES, tools })
      ).json()) as Json;
      expect(chat.usage.prompt_tokens).toBe(tok.count);
    }
    const completion = (await (
      await postJson(service, '/v1/completions', { model, prompt: 'Once upon a time', max_tokens: 1 })
    ).json()) as Json;
    const tok = (await (
      await postJson(service, '/tokenize', { model, prompt: 'Once upon a time' })
    ).json()) as Json;
    expect(completion.usage.prompt_tokens).toBe(tok.count);
    expect(loadedTokenizerFamilies()).toContain(family);
  });
});
