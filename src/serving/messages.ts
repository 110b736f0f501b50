/**
 * POST /v1/messages and /v1/messages/count_tokens, served (Anthropic's Messages API as vLLM serves
 * it: vllm/entrypoints/anthropic/serving.py, docs/messages.md). The request becomes a chat request
 * (messages-request.ts) and is planned and run exactly as chat is — model check, template, rules,
 * tools, reasoning, bounds, engine, prefix cache, metrics — then answered as one `message` body
 * (messages-format.ts) or as Anthropic's event stream (messages-stream.ts).
 */
import type { CountTokensRequest, MessagesRequest } from '../protocol/messages.js';
import { sleepUnlessGone } from '../util/sleep.js';
import { checkModel, renderPrompt, toTemplateMessages } from './base.js';
import { planChat } from './chat.js';
import type { ServingContext } from './context.js';
import { buildMessage, type MessageBody } from './messages-format.js';
import { toChatPrompt, toChatRequest } from './messages-request.js';
import { streamMessages, type MessageStreamEvent } from './messages-stream.js';
import { nimStatsOf } from './nim-stats.js';
import { runToCompletion } from './run-generation.js';
import type { Served, ServingRequest } from './served.js';

export type ServedMessage = Served<MessageBody, MessageStreamEvent>;

export async function serveMessages(
  ctx: ServingContext,
  req: MessagesRequest,
  request: ServingRequest,
): Promise<ServedMessage> {
  const gen = await planChat(ctx, toChatRequest(req), request.header, request.signal, {
    idPrefix: 'msg',
    route: 'messages',
  });
  if (gen.latencyMs) await sleepUnlessGone(gen.latencyMs, request.signal);
  if (req.stream) {
    return { stream: true, frames: streamMessages(ctx, gen, request), events: 'named', replica: gen.replica };
  }

  const { finished, error } = await runToCompletion(ctx.engine, gen, request.signal);
  if (error) throw error;
  const done = finished[0];
  const usage = done?.usage;
  request.noteUsage({
    prompt_tokens: gen.promptTokens,
    completion_tokens: usage?.completionTokens ?? 0,
    prompt_tokens_details: ctx.cachingOn ? { cached_tokens: usage?.cachedTokens ?? 0 } : null,
    session: gen.choices[0]?.request.sessionKey,
    replica: gen.replica,
  });
  const body = buildMessage(gen, done, ctx.cachingOn);
  return {
    stream: false,
    body: ctx.perRequestStats
      ? { ...body, stats: nimStatsOf(gen.promptTokens, finished, gen.replica) }
      : body,
    inParts: false,
    replica: gen.replica,
  };
}

/** vLLM's count_tokens answer: the prompt's tokens, also as `context_management.original_input_tokens`. */
export interface CountTokensBody {
  input_tokens: number;
  context_management: { original_input_tokens: number };
}

/** The tokens the same request to /v1/messages would be billed as input (vLLM's `count_tokens`). */
export async function countMessageTokens(
  ctx: ServingContext,
  req: CountTokensRequest,
): Promise<CountTokensBody> {
  checkModel(req.model, ctx);
  const chat = toChatPrompt(req);
  const tokens = await renderPrompt(ctx, toTemplateMessages(chat), true, chat.tools ?? undefined);
  return { input_tokens: tokens.length, context_management: { original_input_tokens: tokens.length } };
}
