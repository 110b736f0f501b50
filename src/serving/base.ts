/**
 * What chat, completions and tokenize share — the role of vLLM's OpenAIServing base class
 * (vllm/entrypoints/openai/serving_engine.py: `_check_model`, `_preprocess_chat`,
 * `_tokenize_prompt_input`): the model check and turning a request's messages or prompt into
 * token ids, within max_model_len. Plain functions over the ServingContext rather than a class
 * hierarchy: each API's serving module calls the ones it needs, and /tokenize counts exactly the
 * tokens a generation request would be billed for.
 */
import {
  applyChatTemplateAsync,
  ChatTemplateError,
  encodeCompletionPromptAsync,
  type ChatMessage,
} from '../content/chat-template.js';
import { promptText, TokenLimitError } from '../content/tokenizer.js';
import type { LoraAdapter, LoraRegistry } from '../lora/lora-registry.js';
import type { ChatCompletionRequest } from '../protocol/chat.js';
import type { ServingContext } from './context.js';
import { ApiError } from './errors.js';
import type { GenerationSettings } from './to-engine.js';

/**
 * The model a request names: a served base model (undefined), or a LoRA adapter it runs with
 * (docs/lora.md); anything else is vLLM's 404.
 */
export function checkModel(
  model: string,
  ctx: {
    readonly settings: Pick<GenerationSettings, 'servedModels'>;
    readonly loras?: LoraRegistry | undefined;
  },
): LoraAdapter | undefined {
  if (ctx.settings.servedModels.includes(model)) return undefined;
  const adapter = ctx.loras?.get(model);
  if (adapter) return adapter;
  throw new ApiError(404, `The model \`${model}\` does not exist.`, 'model');
}

/**
 * A prompt whose tokenizing stopped at max_model_len (content/tokenizer.ts TokenLimitError): vLLM's
 * context-length message, the count being where counting stopped (a lower bound).
 */
export function promptTooLong(maxModelLen: number, counted: number, noun: 'messages' | 'prompt'): ApiError {
  return new ApiError(
    400,
    `This model's maximum context length is ${maxModelLen} tokens. However, you requested at least ${counted} tokens in the ${noun}, Please reduce the length of the ${noun}.`,
    noun,
  );
}

/** Wire messages → template messages: content parts pass through (the template joins text parts with \n, as vLLM). */
export function toTemplateMessages(req: Pick<ChatCompletionRequest, 'messages'>): ChatMessage[] {
  return req.messages.map((m) =>
    withReasoning(m, {
      role: m.role,
      content: m.content ?? null,
      ...(m.name ? { name: m.name } : {}),
      ...(m.tool_calls ? { tool_calls: m.tool_calls } : {}),
      ...(m.tool_call_id ? { tool_call_id: m.tool_call_id } : {}),
    }),
  );
}

/**
 * vLLM hands the template an assistant message's `reasoning` (`_parse_chat_message_content` in
 * vllm/entrypoints/chat_utils.py; `reasoning_content` sent back is not read). The field is not in
 * the validated shape: a client sending something else under that name is not refused for it.
 */
function withReasoning(wire: { readonly role: string }, message: ChatMessage): ChatMessage {
  const reasoning = (wire as { readonly reasoning?: unknown }).reasoning;
  return wire.role === 'assistant' && typeof reasoning === 'string' && reasoning !== ''
    ? { ...message, reasoning }
    : message;
}

/**
 * Applies the chat template; a conversation the template refuses is a 400, as in vLLM. Tokenizing
 * stops at max_model_len: a longer prompt is refused without being counted to its end. Long
 * prompts are counted in slices that yield to the event loop (the tokenizer's encodeIntoAsync),
 * so one multi-megabyte prompt never stalls the other streams.
 */
export async function renderPrompt(
  ctx: ServingContext,
  messages: readonly ChatMessage[],
  addGenerationPrompt: boolean,
  tools: readonly unknown[] | undefined,
  /** The error of a prompt over max_model_len (`counted`: where counting stopped); chat's by default. */
  tooLong: (maxModelLen: number, counted: number) => ApiError = (max, counted) =>
    promptTooLong(max, counted, 'messages'),
  /** The request's reasoning effort: gpt-oss's Harmony prompt states it (chat-template-harmony.ts). */
  reasoningEffort?: 'low' | 'medium' | 'high' | undefined,
): Promise<number[]> {
  const limit = ctx.settings.maxModelLen;
  try {
    // DeepSeek-R1's and Nemotron's templates drop earlier turns' reasoning (chat-template.ts
    // `dropReasoning`); gpt-oss's Harmony does its own dropping (chat-template-harmony.ts).
    const dropReasoning = ctx.settings.reasoning === 'always' || ctx.settings.reasoning === 'system_prompt';
    // A model that makes parallel calls takes them back in one message (chat-template.ts).
    const parallelToolCalls = ctx.settings.parallelToolCalls === true;
    return await applyChatTemplateAsync(ctx.tokenizer, messages, {
      addGenerationPrompt,
      tools,
      limit,
      ...(dropReasoning ? { dropReasoning } : {}),
      ...(parallelToolCalls ? { parallelToolCalls } : {}),
      ...(reasoningEffort !== undefined ? { reasoningEffort } : {}),
    });
  } catch (err) {
    if (err instanceof ChatTemplateError) throw new ApiError(400, err.message, 'messages');
    if (err instanceof TokenLimitError) throw tooLong(limit, err.counted);
    throw err;
  }
}

/**
 * A completions prompt's token ids: vLLM tokenizes text prompts with special tokens (Llama 3 gets
 * <|begin_of_text|> first). Tokenizing stops at max_model_len: a longer prompt is refused without
 * being counted to its end.
 */
export async function encodePrompt(ctx: ServingContext, text: string): Promise<number[]> {
  const limit = ctx.settings.maxModelLen;
  try {
    return await encodeCompletionPromptAsync(ctx.tokenizer, text, limit);
  } catch (err) {
    if (err instanceof TokenLimitError) throw promptTooLong(limit, err.counted, 'prompt');
    throw err;
  }
}

/**
 * /tokenize's text prompt: the BOS first unless `addSpecialTokens` is false. Counting stops at
 * max_model_len (vLLM counts any length; see docs/limits.md).
 */
export async function tokenizeText(
  ctx: ServingContext,
  text: string,
  addSpecialTokens: boolean,
): Promise<number[]> {
  const t = ctx.tokenizer;
  const tokens = addSpecialTokens && t.bosTokenId !== undefined ? [t.bosTokenId] : [];
  const limit = ctx.settings.maxModelLen;
  // A SentencePiece tokenizer's dummy prefix applies whatever add_special_tokens says.
  if (!(await t.encodeIntoAsync(promptText(t, text), tokens, limit))) {
    throw promptTooLong(limit, tokens.length, 'prompt');
  }
  return tokens;
}
