/**
 * vLLM's /tokenize and /detokenize (vllm/entrypoints/openai/serving_tokenization.py): the same
 * model check and prompt rendering as generation (base.ts), so `count` agrees with
 * usage.prompt_tokens.
 */
import type { DetokenizeRequest, TokenizeRequest } from '../protocol/tokenize.js';
import { checkModel, renderPrompt, tokenizeText, toTemplateMessages } from './base.js';
import type { ServingContext } from './context.js';
import { ApiError } from './errors.js';

export interface TokenizeBody {
  count: number;
  max_model_len: number;
  tokens: number[];
  token_strs: string[] | null;
}

export async function serveTokenize(ctx: ServingContext, req: TokenizeRequest): Promise<TokenizeBody> {
  if (req.model) checkModel(req.model, ctx);
  const tokens =
    'prompt' in req
      ? await tokenizeText(ctx, req.prompt, req.add_special_tokens !== false)
      : await renderPrompt(
          ctx,
          toTemplateMessages(req),
          req.add_generation_prompt ?? true,
          req.tools ?? undefined,
        );
  return {
    count: tokens.length,
    max_model_len: ctx.settings.maxModelLen,
    tokens,
    token_strs: req.return_token_strs ? tokens.map((id) => ctx.tokenizer.tokenText(id)) : null,
  };
}

export function serveDetokenize(ctx: ServingContext, req: DetokenizeRequest): { prompt: string } {
  if (req.model) checkModel(req.model, ctx);
  const bad = req.tokens.find((id) => id >= ctx.tokenizer.vocabSize);
  if (bad !== undefined) throw new ApiError(400, `Token id ${bad} is out of vocabulary.`, 'tokens');
  return { prompt: ctx.tokenizer.decode(req.tokens) };
}
