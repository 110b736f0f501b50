/**
 * POST /v1/chat/completions, served (vLLM's serving_chat.py): validate → template → plan → engine,
 * answered as one chat.completion body or as a stream of chat.completion.chunk frames.
 */
import { toolCallDeltas, type ToolCallDelta } from '../content/tool-call-text.js';
import type { ChatCompletionRequest } from '../protocol/chat.js';
import { contentText } from '../util/content-text.js';
import { sleepUnlessGone } from '../util/sleep.js';
import { checkModel, renderPrompt, toTemplateMessages } from './base.js';
import {
  buildChatCompletion,
  chunkHeader,
  finishReasonOf,
  stopReasonOf,
  streamsToolCall,
} from './chat-format.js';
import { fillTemplate, jsonTemplate } from './chunk-template.js';
import type { ServingContext } from './context.js';
import { StreamedArray } from './json-body.js';
import { nimStatsOf } from './nim-stats.js';
import { Pacer } from './pacer.js';
import type { ChatChunkFrame, ChatCompletionBody, ErrorFrame } from './protocol.js';
import { reasoningFields, reasoningTokensOf, resolveReasoning } from './reasoning.js';
import { resolveChatReply } from './reply-spec.js';
import { checkBounds } from './request-bounds.js';
import { runGeneration, runToCompletion, type FinishedEvent } from './run-generation.js';
import type { ChunkSink, FrameSource, Served, ServingRequest } from './served.js';
import { streamEnding } from './stream-ending.js';
import {
  ignoreEosOf,
  newRequestId,
  planGeneration,
  resolveMaxTokens,
  type PlannedGeneration,
} from './to-engine.js';
import { chatLogprob, chatLogprobJson, usageOf } from './usage.js';

export type ServedChat = Served<ChatCompletionBody, ChatChunkFrame | ErrorFrame>;

/** What differs when another API is served as chat (/v1/messages: messages.ts). */
export interface ChatPlanOptions {
  /** The request id's prefix: `chatcmpl` (chat) or `msg` (messages). */
  readonly idPrefix?: 'chatcmpl' | 'msg';
  /** The route rules match on. */
  readonly route?: 'chat' | 'messages';
}

export async function planChat(
  ctx: ServingContext,
  req: ChatCompletionRequest,
  header: (name: string) => string | undefined = () => undefined,
  signal?: ServingRequest['signal'],
  options: ChatPlanOptions = {},
): Promise<PlannedGeneration> {
  const lora = checkModel(req.model, ctx);
  // Rules, tools and guided decoding are resolved first: a scripted error or a bad constraint is
  // answered before the prompt is rendered.
  const reply = resolveChatReply(req, ctx.rules, header, options.route);
  const messages = toTemplateMessages(req);
  const promptTokenIds = await renderPrompt(
    ctx,
    messages,
    req.add_generation_prompt ?? true,
    req.tools ?? undefined,
    undefined,
    req.reasoning_effort ?? undefined,
  );
  const reasoning = resolveReasoning(req, ctx.settings);
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
    id: options.idPrefix === 'msg' ? newRequestId('msg', '_') : newRequestId('chatcmpl'),
    promptTokenIds,
    maxTokens,
    tokenizer: ctx.tokenizer,
    settings: ctx.settings,
    echoTokenIds: lastUser ? ctx.tokenizer.encode(contentText(lastUser.content)) : [],
    reply: reply.spec,
    latencyMs: reply.latencyMs,
    budget,
    pacer: new Pacer(signal),
    reasoning,
    lora,
    parallelToolCalls: req.parallel_tool_calls ?? true,
  });
}

export async function serveChat(
  ctx: ServingContext,
  req: ChatCompletionRequest,
  request: ServingRequest,
): Promise<ServedChat> {
  const gen = await planChat(ctx, req, request.header, request.signal);
  if (gen.latencyMs) await sleepUnlessGone(gen.latencyMs, request.signal);
  const created = Math.floor(Date.now() / 1000);
  const topN = req.logprobs ? (req.top_logprobs ?? 0) : -1;
  if (req.stream) {
    // Every choice is submitted (and routed) before streamChat returns.
    const frames = streamChat(ctx, req, gen, created, topN, request);
    return { stream: true, frames, replica: gen.replica };
  }

  const { finished, error } = await runToCompletion(ctx.engine, gen, request.signal);
  if (error) throw error;
  const seedOf = (i: number) => gen.choices[i]!.seed;
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
  const usage = usageOf(gen.promptTokens, finished, ctx.cachingOn, reasoningTokensOf(gen, finished));
  request.noteUsage({
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    prompt_tokens_details: usage.prompt_tokens_details,
    session: gen.choices[0]?.request.sessionKey,
    replica: gen.replica,
  });
  const body = buildChatCompletion(gen, created, finished, usage, logprobs, ctx.compat);
  return {
    stream: false,
    body: ctx.perRequestStats
      ? { ...body, stats: nimStatsOf(gen.promptTokens, finished, gen.replica) }
      : body,
    inParts: logprobs !== undefined,
    replica: gen.replica,
  };
}

/**
 * Submits every choice now, so a refusal (queue full) is still an HTTP status, not in-band; the
 * frames go to the sink the HTTP layer starts once the response exists. Engine events arrive on
 * later turns, after that. Each frame is one object literal written straight to the sink.
 */
function streamChat(
  ctx: ServingContext,
  req: ChatCompletionRequest,
  gen: PlannedGeneration,
  created: number,
  topN: number,
  request: ServingRequest,
): FrameSource<ChatChunkFrame | ErrorFrame> {
  const header = chunkHeader(gen, created);
  const includeUsage = req.stream_options?.include_usage ?? false;
  const continuousUsage = includeUsage && (req.stream_options?.continuous_usage_stats ?? false);
  const finished: (FinishedEvent | undefined)[] = [];
  const generated = gen.choices.map(() => 0);
  // Planned tool calls stream as tool_calls deltas, as vLLM's llama3_json parser sends them; after
  // a reasoning, from the answer's first token on (indexed from there).
  const toolDeltas: ((readonly ToolCallDelta[])[] | undefined)[] = gen.choices.map((choice) => {
    const { toolCalls, pieces, reasoning } = choice.plan;
    if (toolCalls === undefined) return undefined;
    return toolCallDeltas(reasoning === undefined ? pieces : pieces.slice(reasoning.tokens), toolCalls);
  });
  const usageField = (): Pick<ChatChunkFrame, 'usage'> => {
    if (!includeUsage) return {};
    if (!continuousUsage) return { usage: null };
    const completion = generated.reduce((a, b) => a + b, 0);
    const prompt = gen.promptTokens;
    return {
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    };
  };

  type ChunkChoice = ChatChunkFrame['choices'][number];
  const contentChunk = (
    i: number,
    delta: ChunkChoice['delta'],
    logprobs: ChunkChoice['logprobs'],
  ): ChatChunkFrame => ({
    ...header,
    choices: [{ index: i, delta, logprobs, finish_reason: null }],
    ...usageField(),
  });
  // A choice's content chunks differ only in their text when they carry no logprobs and no running
  // usage: each is then its template filled in (chunk-template.ts), not an object serialized.
  const contentTemplates =
    topN < 0 && !continuousUsage
      ? gen.choices.map((choice) =>
          jsonTemplate((text) => contentChunk(choice.index, { content: text }, null)),
        )
      : undefined;

  let sink: ChunkSink<ChatChunkFrame | ErrorFrame> | undefined;
  type WireToolCall = NonNullable<ChatChunkFrame['choices'][number]['delta']['tool_calls']>[number];
  const sendToolCalls = (i: number, toolCalls: WireToolCall[]) =>
    sink?.send({
      ...header,
      choices: [{ index: i, delta: { tool_calls: toolCalls }, logprobs: null, finish_reason: null }],
      ...usageField(),
    } satisfies ChatChunkFrame);
  // One frame per delta: a new index opens a call (id, type, name), its arguments follow. A call
  // that parallel_tool_calls false drops still costs its frames, emptied to `tool_calls: []`, as in
  // vLLM: chat_completion_stream_generator (vllm/entrypoints/openai/chat_completion/serving.py)
  // skips a token only when the tool parser returned no delta; a delta that carries only a later
  // call's index goes through maybe_filter_parallel_tool_calls, which keeps index 0 (none here),
  // and the chunk is yielded all the same.
  const sendToolDeltas = (i: number, deltas: readonly ToolCallDelta[]) => {
    const calls = gen.choices[i]!.plan.toolCalls!;
    let sent = false;
    for (const delta of deltas) {
      if (!streamsToolCall(gen, delta.index)) continue;
      const call = calls[delta.index]!;
      if (delta.header) {
        sendToolCalls(i, [
          { index: delta.index, id: call.id, type: 'function', function: { name: call.name } },
        ]);
      }
      if (delta.arguments !== '') {
        sendToolCalls(i, [{ index: delta.index, function: { arguments: delta.arguments } }]);
      }
      sent = true;
    }
    if (!sent) sendToolCalls(i, []);
  };
  const controller = runGeneration(
    ctx.engine,
    gen,
    {
      onToken(i, pos, id) {
        generated[i] = pos + 1;
        const plan = gen.choices[i]!.plan;
        // A reasoning plan's first tokens stream as reasoning deltas, before any content.
        const reasoningTokens = plan.reasoning?.tokens ?? 0;
        const deltas = toolDeltas[i]?.[pos - reasoningTokens];
        if (deltas !== undefined) {
          if (deltas.length > 0) sendToolDeltas(i, deltas);
          return;
        }
        const text = plan.pieces[pos] ?? '';
        if (text === '' && topN < 0) return;
        if (sink === undefined) return;
        const template = pos < reasoningTokens ? undefined : contentTemplates?.[i];
        if (template !== undefined) {
          sink.sendJson(fillTemplate(template, text));
          return;
        }
        sink.send(
          contentChunk(
            i,
            pos < reasoningTokens ? reasoningFields(ctx.compat, text) : { content: text },
            topN >= 0 ? { content: [chatLogprob(ctx.tokenizer, gen.choices[i]!.seed, pos, id, topN)] } : null,
          ),
        );
      },
      onFinished(i, ev) {
        finished[i] = ev;
        if (ev.reason === 'abort') return;
        sink?.send({
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
        } satisfies ChatChunkFrame);
      },
      ...streamEnding({
        request,
        ctx,
        gen,
        header,
        finished,
        includeUsage,
        sink: () => sink,
        abort: () => controller.abort(),
      }),
    },
    request.signal,
  );

  return {
    start(writer) {
      sink = writer;
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
        } satisfies ChatChunkFrame);
      }
    },
    abort: () => controller.abort(),
  };
}
