/** vLLM's POST /tokenize and /detokenize (no /v1 prefix); counts agree with usage.prompt_tokens. */
import type { Hono } from 'hono';
import { z } from 'zod';
import { ChatMessageSchema, ToolSchema } from '../../protocol/chat.js';
import { readJson } from '../body.js';
import { ApiError } from '../errors.js';
import type { ServingContext } from '../serving.js';
import { checkModel, promptTooLong } from '../to-engine.js';
import { renderPrompt, toTemplateMessages } from './chat.js';

export const TokenizeRequestSchema = z.union([
  z.object({
    model: z.string().nullish(),
    prompt: z.string(),
    add_special_tokens: z.boolean().nullish(),
    return_token_strs: z.boolean().nullish(),
  }),
  z.object({
    model: z.string().nullish(),
    messages: z.array(ChatMessageSchema).min(1),
    add_generation_prompt: z.boolean().nullish(),
    tools: z.array(ToolSchema).nullish(),
    return_token_strs: z.boolean().nullish(),
  }),
]);

export const DetokenizeRequestSchema = z.object({
  model: z.string().nullish(),
  tokens: z.array(z.number().int().min(0)),
});

export function registerTokenizeRoutes(app: Hono, ctx: ServingContext): void {
  app.post('/tokenize', async (c) => {
    const req = await readJson(c, TokenizeRequestSchema);
    if (req.model) checkModel(req.model, ctx.settings);
    const t = ctx.tokenizer;
    let tokens: number[];
    if ('prompt' in req) {
      tokens = req.add_special_tokens !== false && t.bosTokenId !== undefined ? [t.bosTokenId] : [];
      // Counting stops at max_model_len (vLLM counts any length; see README, Limits).
      const limit = ctx.settings.maxModelLen;
      if (!(await t.encodeIntoAsync(req.prompt, tokens, limit)))
        throw promptTooLong(limit, tokens.length, 'prompt');
    } else {
      tokens = await renderPrompt(
        ctx,
        toTemplateMessages(req),
        req.add_generation_prompt ?? true,
        req.tools ?? undefined,
      );
    }
    return c.json({
      count: tokens.length,
      max_model_len: ctx.settings.maxModelLen,
      tokens,
      token_strs: req.return_token_strs ? tokens.map((id) => t.tokenText(id)) : null,
    });
  });
  app.post('/detokenize', async (c) => {
    const req = await readJson(c, DetokenizeRequestSchema);
    if (req.model) checkModel(req.model, ctx.settings);
    const bad = req.tokens.find((id) => id >= ctx.tokenizer.vocabSize);
    if (bad !== undefined) throw new ApiError(400, `Token id ${bad} is out of vocabulary.`, 'tokens');
    return c.json({ prompt: ctx.tokenizer.decode(req.tokens) });
  });
}
