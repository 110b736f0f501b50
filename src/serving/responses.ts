/**
 * POST /v1/responses, served as vLLM's OpenAIServingResponses serves it
 * (vllm/entrypoints/openai/responses/serving.py) for a text model: the request and any previous
 * response become chat messages (responses-conversation.ts), rendered by the chat template,
 * planned like a chat reply (tools, structured output, reasoning, rules) and run on the engine —
 * so timing, the prefix cache, metrics and faults are chat's. The answer is one response object or
 * a stream of typed events (responses-stream.ts).
 */
import type { ChatMessage } from '../content/chat-template.js';
import type { ResponsesRequest } from '../protocol/responses.js';
import { contentText } from '../util/content-text.js';
import { sleepUnlessGone } from '../util/sleep.js';
import { checkModel, renderPrompt } from './base.js';
import type { ServingContext } from './context.js';
import { ApiError } from './errors.js';
import { StreamedArray } from './json-body.js';
import { Pacer } from './pacer.js';
import { conversationOf } from './responses-conversation.js';
import { completedBody, outputItems, wantsLogprobs, type ResponseFrame } from './responses-format.js';
import type { ResponsesBody, ResponsesEvent } from './responses-protocol.js';
import { resolveResponsesReply } from './responses-reply.js';
import type { StoredResponse } from './responses-store.js';
import { streamResponse } from './responses-stream.js';
import { resolveReasoning } from './reasoning.js';
import { checkBounds } from './request-bounds.js';
import { runToCompletion, type FinishedEvent } from './run-generation.js';
import type { Served, ServingRequest } from './served.js';
import { newRequestId, planGeneration, type SamplingRequest } from './to-engine.js';
import { chatLogprobJson } from './usage.js';

export type ServedResponse = Served<ResponsesBody, ResponsesEvent>;

/** A planned response: its frame, and the conversation to store with it. */
export interface PlannedResponse extends ResponseFrame {
  readonly messages: readonly ChatMessage[];
}

/** vLLM's words for a prompt that leaves no room to answer (serving.py `_validate_generator_input`). */
function promptTooLong(maxModelLen: number, promptTokens: number): ApiError {
  return new ApiError(
    400,
    `The engine prompt length ${promptTokens} exceeds the max_model_len ${maxModelLen}. Please reduce prompt.`,
    'input',
  );
}

/** What vLLM refuses outright, and what nimsim does not serve. */
function checkSupported(req: ResponsesRequest): void {
  if (req.prompt != null) throw new ApiError(400, 'prompt template is not supported', 'prompt');
  if (req.background === true) {
    throw new ApiError(400, 'Background mode is not supported by nimsim.', 'background');
  }
}

/** The sampling fields planning reads (to-engine.ts), from the Responses request's own. */
function samplingOf(req: ResponsesRequest): SamplingRequest {
  return {
    model: req.model,
    n: 1,
    stop: req.stop,
    seed: req.seed,
    temperature: req.temperature,
    ignore_eos: req.ignore_eos,
    include_stop_str_in_output: req.include_stop_str_in_output,
    cache_salt: req.cache_salt,
    prompt_cache_key: req.prompt_cache_key,
    user: req.user,
  };
}

export async function planResponse(
  ctx: ServingContext,
  req: ResponsesRequest,
  request: Pick<ServingRequest, 'header' | 'signal'>,
): Promise<PlannedResponse> {
  const lora = checkModel(req.model, ctx);
  checkSupported(req);
  let previous: StoredResponse | undefined;
  if (req.previous_response_id != null) {
    previous = ctx.responses?.get(req.previous_response_id);
    if (previous === undefined) {
      // vLLM's answer (serving.py `_make_not_found_error`), naming the field the client sent.
      throw new ApiError(
        404,
        `Response with id '${req.previous_response_id}' not found.`,
        'previous_response_id',
        {},
        'invalid_request_error',
      );
    }
  }
  const messages = conversationOf(req, previous);
  // Rules, tools and structured output first: a scripted error or a bad schema is answered before
  // the prompt is rendered.
  const reply = resolveResponsesReply(req, messages, ctx.rules, request.header);
  const templateTools = req.tools?.map((t) => ({
    type: 'function',
    function: { name: t.name, description: t.description, parameters: t.parameters },
  }));
  const effort = req.reasoning?.effort ?? undefined;
  const promptTokenIds = await renderPrompt(
    ctx,
    messages,
    true,
    templateTools,
    promptTooLong,
    effort === 'low' || effort === 'medium' || effort === 'high' ? effort : undefined,
  );
  const { maxModelLen } = ctx.settings;
  if (promptTokenIds.length >= maxModelLen) throw promptTooLong(maxModelLen, promptTokenIds.length);
  // vLLM caps max_output_tokens at what the context leaves instead of refusing it (protocol.py
  // `to_sampling_params`: min(max_output_tokens, max_model_len - prompt)).
  const room = maxModelLen - promptTokenIds.length;
  const maxTokens = Math.min(req.max_output_tokens ?? room, room);
  const topLogprobs = req.top_logprobs ?? 0;
  const budget = checkBounds(ctx, {
    n: 1,
    prompts: [{ promptTokens: promptTokenIds.length, maxTokens }],
    ignoreEos: req.ignore_eos ?? false,
    minTokens: 0,
    logprobsPerToken: wantsLogprobs(req) ? 1 + topLogprobs : 0,
    promptLogprobsPerToken: 0,
    maxTokensField: 'max_output_tokens',
    logprobsField: 'top_logprobs',
  });
  const reasoning = resolveReasoning(
    { messages, reasoning_effort: req.reasoning?.effort ?? undefined },
    ctx.settings,
  );
  const lastUser = ctx.settings.content === 'echo' ? messages.findLast((m) => m.role === 'user') : undefined;
  const gen = await planGeneration(samplingOf(req), {
    id: newRequestId('resp', '_'),
    promptTokenIds,
    maxTokens,
    tokenizer: ctx.tokenizer,
    settings: ctx.settings,
    echoTokenIds: lastUser ? ctx.tokenizer.encode(contentText(lastUser.content)) : [],
    reply: reply.spec,
    latencyMs: reply.latencyMs,
    budget,
    pacer: new Pacer(request.signal),
    reasoning,
    lora,
    parallelToolCalls: req.parallel_tool_calls ?? true,
  });
  return {
    req,
    gen,
    messages,
    maxOutputTokens: maxTokens,
    created: Math.floor(Date.now() / 1000),
    ids: {
      reasoning: newRequestId('rs', '_'),
      message: newRequestId('msg', '_'),
      functionCalls: (gen.choices[0]?.plan.toolCalls ?? []).map(() => newRequestId('fc', '_')),
    },
  };
}

export async function serveResponses(
  ctx: ServingContext,
  req: ResponsesRequest,
  request: ServingRequest,
): Promise<ServedResponse> {
  const planned = await planResponse(ctx, req, request);
  const { gen } = planned;
  if (gen.latencyMs) await sleepUnlessGone(gen.latencyMs, request.signal);
  if (req.stream) {
    const frames = streamResponse(ctx, planned, request, (body) => finishResponse(ctx, planned, body));
    return { stream: true, frames, events: 'named', replica: gen.replica };
  }
  const { finished, error } = await runToCompletion(ctx.engine, gen, request.signal);
  if (error) throw error;
  const done = finished[0];
  const logprobs = wantsLogprobs(req) ? answerLogprobs(ctx, planned, done) : null;
  const body = completedBody(
    ctx.perRequestStats ?? false,
    planned,
    done,
    outputItems(planned, done, logprobs),
  );
  finishResponse(ctx, planned, body);
  request.noteUsage({
    prompt_tokens: gen.promptTokens,
    completion_tokens: done?.usage.completionTokens ?? 0,
    prompt_tokens_details: ctx.cachingOn ? { cached_tokens: done?.usage.cachedTokens ?? 0 } : null,
    session: gen.choices[0]?.request.sessionKey,
    replica: gen.replica,
  });
  return { stream: false, body, inParts: logprobs !== null, replica: gen.replica };
}

/** Keeps a finished response for `previous_response_id` unless the request said `store: false`. */
function finishResponse(ctx: ServingContext, planned: PlannedResponse, body: ResponsesBody): void {
  if (planned.req.store === false || ctx.responses === undefined) return;
  // Logprobs are made as the body is written: the stored copy keeps the text only.
  const output = body.output.map((item) =>
    item.type === 'message'
      ? { ...item, content: item.content.map((part) => ({ ...part, logprobs: null })) }
      : item,
  );
  ctx.responses.put({ response: { ...body, output }, messages: planned.messages, output });
}

/** The answer's tokens' logprobs (vLLM's `_create_response_logprobs`), made as the body is written. */
function answerLogprobs(ctx: ServingContext, planned: PlannedResponse, finished: FinishedEvent | undefined) {
  const choice = planned.gen.choices[0]!;
  const ids = choice.plan.tokenIds;
  const n = Math.min(finished?.usage.completionTokens ?? 0, ids.length);
  const first = choice.plan.reasoning?.tokens ?? 0;
  const topN = planned.req.top_logprobs ?? 0;
  return new StreamedArray(function* () {
    for (let pos = first; pos < n; pos++) {
      yield chatLogprobJson(ctx.tokenizer, choice.seed, pos, ids[pos]!, topN);
    }
  }, true);
}
