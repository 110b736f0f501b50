/**
 * Startup pays for the served model's vocabulary only: serving the default model (Llama 3.1 8B)
 * never loads o200k's or Mistral's tables (about half a second each). A file of its own, so that
 * no other test in this module graph has built another family's tokenizer first.
 */
import { describe, expect, it } from 'vitest';
import { loadedTokenizerFamilies } from '../../src/content/tokenizer.js';
import { postJson, testService } from '../helpers/service.js';

describe('the default model loads no other vocabulary', () => {
  it('serves Llama 3.1 8B with the Llama 3 tokenizer only', async () => {
    const service = testService();
    const res = await postJson(service, '/v1/chat/completions', {
      model: 'meta/llama-3.1-8b-instruct',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 4,
    });
    expect(res.status).toBe(200);
    expect(loadedTokenizerFamilies()).toEqual(['llama3']);
  });
});
