/** POST /v1/chat/completions: validate → template → plan → engine → JSON or SSE. */
import type { Context, Hono } from 'hono';
import { applyChatTemplateAsync, ChatTemplateError, type ChatMessage } from '../../content/chat-template.js';
import { TokenLimitError } from '../../content/tokenizer.js';
import { ChatCompletionRequestSchema, type ChatCompletionRequest } from '../../protocol/chat.js';
import { readJson } from '../body.js';
import { toolCallDeltas, type ToolCallDelta } from '../../content/tool-calls.js';
import { buildChatCompletion, chunkHeader, finishReasonOf, stopReasonOf } from '../chat-format.js';
import { ApiError } from '../errors.js';
import { StreamedArray, streamedJsonResponse } from '../json-body.js';
import { resolveChatReply } from '../reply-spec.js';
import { runGeneration, runToCompletion, type FinishedEvent } from '../run-generation.js';
import { clientSignalOf, type ClientSignal } from '../client-signal.js';
import { sleepUnlessGone } from '../wall-sleep.js';
import { noteUsage } from '../request-log.js';
import type { ServingContext } from '../serving.js';
import { streamEnding } from '../stream-ending.js';
import { createSseResponse, type SseWriter } from '../sse.js';
import { Pacer } from '../pacer.js';
import { checkBounds } from '../request-bounds.js';
import {
  checkModel,
  ignoreEosOf,
  newRequestId,
  planGeneration,
  promptTooLong,
  resolveMaxTokens,
  type PlannedGeneration,
} from '../to-engine.js';
import { nimStatsOf } from '../nim-stats.js';
import { chatLogprob, chatLogprobJson, usageOf } from '../usage.js';

/** Wire messages → template messages: content parts pass through (the template joins text parts with \n, as vLLM). */
export function toTemplateMessages(req: Pick<ChatCompletionRequest, 'messages'>): ChatMessage[] {
  return req.messages.map((m) => ({
    role: m.role,
    content: m.content ?? null,
    ...(m.name ? { name: m.name } : {}),
    ...(m.tool_calls ? { tool_calls: m.tool_calls } : {}),
    ...(m.tool_call_id ? { tool_call_id: m.tool_call_id } : {}),
  }));
}

/** The text of a message's content, parts joined as the template joins them. */
function contentText(content: ChatMessage['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => ('text' in p && typeof p.text === 'string' ? p.text : '')).join('\n');
}

/**
 * Applies the chat template; a conversation the template refuses is a 400, as in vLLM. Tokenizing
 * stops at max_model_len: a longer prompt is refused without being counted to its end.
 */
export async function renderPrompt(
  ctx: ServingContext,
  messages: readonly ChatMessage[],
  addGenerationPrompt: boolean,
  tools: readonly unknown[] | undefined,
): Promise<number[]> {
  const limit = ctx.settings.maxModelLen;
  try {
    return await applyChatTemplateAsync(ctx.tokenizer, messages, { addGenerationPrompt, tools, limit });
  } catch (err) {
    if (err instanceof ChatTemplateError) throw new ApiError(400, err.message, 'messages');
    if (err instanceof TokenLimitError) throw promptTooLong(limit, err.counted, 'messages');
    throw err;
  }
}

export async function planChat(
  ctx: ServingContext,
  req: ChatCompletionRequest,
  header: (name: string) => string | undefined = () => undefined,
  signal?: ClientSignal,
): Promise<PlannedGeneration> {
  checkModel(req.model, ctx.settings);
  // Rules, tools and guided decoding are resolved first: a scripted error or a bad constraint is
  // answered before the prompt is rendered.
  const reply = resolveChatReply(req, ctx.rules, header);
  const messages = toTemplateMessages(req);
  const promptTokenIds = await renderPrompt(
    ctx,
    messages,
    req.add_generation_prompt ?? true,
    req.tools ?? undefined,
  );
  const maxTokens = resolveMaxTokens(
    promptTokenIds.length,
    req.max_completion_tokens ?? req.max_tokens,
    ctx.settings.maxModelLen,
    'messages',
  );
  const topLogprobs = req.top_logprobs ?? 0;
  const budget = checkBounds(ctx, {
    n: req.n ?? 1,
    prompts: [{ promptTokens: promptTokenIds.length, maxTokens }],
    ignoreEos: ignoreEosOf(req),
    minTokens: req.min_tokens ?? 0,
    logprobsPerToken: req.logprobs === true ? 1 + topLogprobs : 0,
    promptLogprobsPerToken: 0,
    maxTokensField: req.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens',
    logprobsField: topLogprobs > 0 ? 'top_logprobs' : 'logprobs',
  });
  // Only echo mode replays the last user message; do not tokenize it for every request.
  const lastUser = ctx.settings.content === 'echo' ? messages.findLast((m) => m.role === 'user') : undefined;
  return planGeneration(req, {
    id: newRequestId('chatcmpl'),
    promptTokenIds,
    maxTokens,
    tokenizer: ctx.tokenizer,
    settings: ctx.settings,
    echoTokenIds: lastUser ? ctx.tokenizer.encode(contentText(lastUser.content)) : [],
    reply: reply.spec,
    latencyMs: reply.latencyMs,
    budget,
    pacer: new Pacer(signal),
  });
}

export function registerChatRoute(app: Hono, ctx: ServingContext): void {
  app.post('/v1/chat/completions', async (c) => {
    const req = await readJson(c, ChatCompletionRequestSchema);
    const clientSignal = clientSignalOf(c);
    const gen = await planChat(ctx, req, (name) => c.req.header(name), clientSignal);
    if (gen.latencyMs) await sleepUnlessGone(gen.latencyMs, clientSignal);
    const created = Math.floor(Date.now() / 1000);
    const topN = req.logprobs ? (req.top_logprobs ?? 0) : -1;
    const seedOf = (i: number) => gen.choices[i]!.seed;
    if (req.stream) return streamChat(ctx, req, gen, created, topN, c, clientSignal);

    const { finished, error } = await runToCompletion(ctx.engine, gen, clientSignal);
    if (error) throw error;
    // Logprobs are made per token as the body is written (json-body.ts), never all at once.
    const logprobs =
      topN >= 0
        ? (i: number) =>
            new StreamedArray(function* () {
              const n = finished[i]?.usage.completionTokens ?? 0;
              const ids = gen.choices[i]!.plan.tokenIds;
              for (let pos = 0; pos < n && pos < ids.length; pos++) {
                yield chatLogprobJson(ctx.tokenizer, seedOf(i), pos, ids[pos]!, topN);
              }
            }, true)
        : undefined;
    const usage = usageOf(gen.promptTokens, finished, ctx.cachingOn);
    noteUsage(c, {
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: usage.completion_tokens,
      prompt_tokens_details: usage.prompt_tokens_details,
      session: gen.choices[0]?.request.sessionKey,
    });
    const body = buildChatCompletion(gen, created, finished, usage, logprobs);
    const reply = ctx.perRequestStats ? { ...body, stats: nimStatsOf(gen.promptTokens, finished) } : body;
    return logprobs ? streamedJsonResponse(reply) : c.json(reply);
  });
}

function streamChat(
  ctx: ServingContext,
  req: ChatCompletionRequest,
  gen: PlannedGeneration,
  created: number,
  topN: number,
  c: Context,
  clientSignal: ClientSignal,
): Response {
  const header = chunkHeader(gen, created);
  const includeUsage = req.stream_options?.include_usage ?? false;
  const continuousUsage = includeUsage && (req.stream_options?.continuous_usage_stats ?? false);
  const finished: (FinishedEvent | undefined)[] = [];
  const generated = gen.choices.map(() => 0);
  // A planned tool call streams as tool_calls deltas, as vLLM's llama3_json parser sends them.
  const toolDeltas: (ToolCallDelta[] | undefined)[] = gen.choices.map((choice) =>
    choice.plan.toolCall === undefined ? undefined : toolCallDeltas(choice.plan.pieces, choice.plan.toolCall),
  );
  const usageField = () => {
    if (!includeUsage) return {};
    if (!continuousUsage) return { usage: null };
    const completion = generated.reduce((a, b) => a + b, 0);
    const prompt = gen.promptTokens;
    return {
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    };
  };

  let sse: SseWriter | undefined;
  const sendToolDelta = (i: number, delta: ToolCallDelta) => {
    const call = gen.choices[i]!.plan.toolCall!;
    const send = (toolCall: Record<string, unknown>) =>
      sse?.send({
        ...header,
        choices: [
          {
            index: i,
            delta: { tool_calls: [{ index: 0, ...toolCall }] },
            logprobs: null,
            finish_reason: null,
          },
        ],
        ...usageField(),
      });
    if (delta.header) send({ id: call.id, type: 'function', function: { name: call.name } });
    if (delta.arguments !== '') send({ function: { arguments: delta.arguments } });
  };
  // Submit before the response exists: a refusal (queue full) is still an HTTP status, not in-band.
  // Engine events arrive on later turns, after the stream below has been set up.
  const controller = runGeneration(
    ctx.engine,
    gen,
    {
      onToken(i, pos, id) {
        generated[i] = pos + 1;
        const toolDelta = toolDeltas[i]?.[pos];
        if (toolDelta !== undefined) {
          sendToolDelta(i, toolDelta);
          return;
        }
        const text = gen.choices[i]!.plan.pieces[pos] ?? '';
        if (text === '' && topN < 0) return;
        sse?.send({
          ...header,
          choices: [
            {
              index: i,
              delta: { content: text },
              logprobs:
                topN >= 0
                  ? { content: [chatLogprob(ctx.tokenizer, gen.choices[i]!.seed, pos, id, topN)] }
                  : null,
              finish_reason: null,
            },
          ],
          ...usageField(),
        });
      },
      onFinished(i, ev) {
        finished[i] = ev;
        if (ev.reason === 'abort') return;
        sse?.send({
          ...header,
          choices: [
            {
              index: i,
              delta: {},
              logprobs: null,
              finish_reason: finishReasonOf(gen, i, ev),
              stop_reason: stopReasonOf(gen, i, ev),
            },
          ],
          ...usageField(),
        });
      },
      ...streamEnding({
        c,
        ctx,
        gen,
        header,
        finished,
        includeUsage,
        sse: () => sse,
        abort: () => controller.abort(),
      }),
    },
    clientSignal,
  );

  return createSseResponse(
    c,
    (writer) => {
      sse = writer;
      for (const choice of gen.choices) {
        writer.send({
          ...header,
          choices: [
            {
              index: choice.index,
              delta: { role: 'assistant', content: '' },
              logprobs: null,
              finish_reason: null,
            },
          ],
          ...usageField(),
        });
      }
    },
    () => controller.abort(),
  );
}
