/**
 * A streamed response: the Responses API's typed events, numbered by `sequence_number` from 0,
 * in the order vLLM's simple (non-Harmony) stream sends them
 * (vllm/entrypoints/openai/responses/simple_streaming_events.py, `process_simple_stream`):
 *
 *   response.created, response.in_progress,
 *   per output item: response.output_item.added, then
 *     reasoning: response.content_part.added, response.reasoning_text.delta…,
 *                response.reasoning_text.done, response.content_part.done
 *     message:   response.content_part.added, response.output_text.delta…,
 *                response.output_text.done, response.content_part.done
 *     function call: response.function_call_arguments.delta…, response.function_call_arguments.done
 *   and response.output_item.done; finally response.completed with the whole response (vLLM sends
 *   it for an `incomplete` response too).
 *
 * One delta per generated token whose text is not empty, as the engine produces it. An item opens
 * at its first non-empty piece, so the stream's items are exactly the final response's, under the
 * same ids (vLLM draws fresh ids for the stream's items; OpenAI's API keeps them, as here). A
 * failure after the stream began is one `error` event (OpenAI's ResponseErrorEvent, `code` the
 * HTTP status as in every nimsim error body); a client that goes away aborts the generation.
 */
import { toolCallDeltas, type ToolCallDelta } from '../content/tool-call-text.js';
import { streamsToolCall } from './chat-format.js';
import type { ServingContext } from './context.js';
import { toErrorInfo } from './errors.js';
import {
  completedBody,
  functionCallItem,
  messageItem,
  outputItems,
  reasoningItem,
  responseBody,
  wantsLogprobs,
} from './responses-format.js';
import type { ResponsesBody, ResponsesEvent } from './responses-protocol.js';
import type { PlannedResponse } from './responses.js';
import { runGeneration, type FinishedEvent } from './run-generation.js';
import type { ChunkSink, FrameSource, ServingRequest } from './served.js';
import { chatLogprob } from './usage.js';

type OpenItem = 'reasoning' | 'message' | 'function_call';

export function streamResponse(
  ctx: ServingContext,
  planned: PlannedResponse,
  request: ServingRequest,
  onCompleted: (body: ResponsesBody) => void,
): FrameSource<ResponsesEvent> {
  const { gen, ids, req } = planned;
  const choice = gen.choices[0]!;
  const plan = choice.plan;
  const reasoningTokens = plan.reasoning?.tokens ?? 0;
  // Planned tool calls stream as argument deltas from the answer's first token on (chat.ts), each
  // call its own function_call item.
  const toolDeltas: (readonly ToolCallDelta[])[] | undefined =
    plan.toolCalls === undefined
      ? undefined
      : toolCallDeltas(plan.pieces.slice(reasoningTokens), plan.toolCalls);
  const logprobs = wantsLogprobs(req);
  const topN = req.top_logprobs ?? 0;

  let sink: ChunkSink<ResponsesEvent> | undefined;
  let sequence = 0;
  let open: OpenItem | undefined;
  /** The tool call whose function_call item is open. */
  let openCall = 0;
  let outputIndex = -1;
  let text = '';
  let finished: FinishedEvent | undefined;
  let failed = false;

  // While the stream closes, its events are gathered and handed to `close` together: they repeat
  // the whole text and are written however long the client takes (served.ts ChunkSink.close).
  let closing: ResponsesEvent[] | undefined;
  const emit = (type: string, fields: Record<string, unknown>) => {
    const event = { type, sequence_number: sequence++, ...fields };
    if (closing !== undefined) closing.push(event);
    else sink?.send(event);
  };
  const at = (itemId: string) => ({ item_id: itemId, output_index: outputIndex });
  const part = (itemId: string) => ({ ...at(itemId), content_index: 0 });

  const openItem = (kind: OpenItem, call = 0) => {
    closeItem();
    open = kind;
    openCall = call;
    outputIndex++;
    text = '';
    if (kind === 'reasoning') {
      emit('response.output_item.added', {
        output_index: outputIndex,
        item: { id: ids.reasoning, type: 'reasoning', summary: [], status: 'in_progress' },
      });
      emit('response.content_part.added', {
        ...part(ids.reasoning),
        part: { type: 'reasoning_text', text: '' },
      });
    } else if (kind === 'message') {
      emit('response.output_item.added', {
        output_index: outputIndex,
        item: { id: ids.message, type: 'message', role: 'assistant', content: [], status: 'in_progress' },
      });
      emit('response.content_part.added', {
        ...part(ids.message),
        part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      });
    } else {
      emit('response.output_item.added', {
        output_index: outputIndex,
        item: functionCallItem(planned, call, '', 'in_progress'),
      });
    }
  };

  const closeItem = () => {
    if (open === 'reasoning') {
      emit('response.reasoning_text.done', { ...part(ids.reasoning), text });
      emit('response.content_part.done', { ...part(ids.reasoning), part: { type: 'reasoning_text', text } });
      emit('response.output_item.done', {
        output_index: outputIndex,
        item: reasoningItem(ids.reasoning, text, 'completed'),
      });
    } else if (open === 'message') {
      emit('response.output_text.done', { ...part(ids.message), text, logprobs: [] });
      emit('response.content_part.done', {
        ...part(ids.message),
        part: { type: 'output_text', text, annotations: [], logprobs: null },
      });
      emit('response.output_item.done', {
        output_index: outputIndex,
        item: messageItem(ids.message, text, null),
      });
    } else if (open === 'function_call') {
      const call = plan.toolCalls![openCall]!;
      emit('response.function_call_arguments.done', {
        ...at(ids.functionCalls[openCall]!),
        name: call.name,
        arguments: text,
      });
      emit('response.output_item.done', {
        output_index: outputIndex,
        item: functionCallItem(planned, openCall, text, 'completed'),
      });
    }
    open = undefined;
  };

  const onToken = (pos: number, id: number) => {
    const piece = plan.pieces[pos] ?? '';
    if (pos < reasoningTokens) {
      if (piece === '') return;
      if (open !== 'reasoning') openItem('reasoning');
      text += piece;
      emit('response.reasoning_text.delta', { ...part(ids.reasoning), delta: piece });
      return;
    }
    const deltas = toolDeltas?.[pos - reasoningTokens];
    if (deltas !== undefined) {
      for (const toolDelta of deltas) {
        // parallel_tool_calls false: the first call only, as the final response has it.
        if (!streamsToolCall(gen, toolDelta.index)) continue;
        if (toolDelta.header) openItem('function_call', toolDelta.index);
        if (open === 'function_call' && openCall === toolDelta.index && toolDelta.arguments !== '') {
          text += toolDelta.arguments;
          emit('response.function_call_arguments.delta', {
            ...at(ids.functionCalls[toolDelta.index]!),
            delta: toolDelta.arguments,
          });
        }
      }
      return;
    }
    if (piece === '') return;
    if (open !== 'message') openItem('message');
    text += piece;
    emit('response.output_text.delta', {
      ...part(ids.message),
      delta: piece,
      logprobs: logprobs ? [deltaLogprob(ctx, choice.seed, pos, id, topN)] : [],
    });
  };

  const controller = runGeneration(
    ctx.engine,
    gen,
    {
      onToken: (_choice, pos, id) => onToken(pos, id),
      onFinished(_choice, ev) {
        finished = ev;
      },
      onFailed(_choice, error) {
        failed = true;
        const { info } = toErrorInfo(error);
        emit('error', { code: info.code, message: info.message, param: info.param });
        sink?.close();
        controller.abort();
      },
      onDone() {
        request.noteUsage({
          prompt_tokens: gen.promptTokens,
          completion_tokens: finished?.usage.completionTokens ?? 0,
          prompt_tokens_details: ctx.cachingOn ? { cached_tokens: finished?.usage.cachedTokens ?? 0 } : null,
          session: choice.request.sessionKey,
          replica: gen.replica,
        });
        const done = finished;
        if (failed || done === undefined || done.reason === 'abort' || sink === undefined || sink.closed) {
          sink?.close();
          return;
        }
        closing = [];
        closeItem();
        const output = outputItems(planned, done, logprobs ? finalLogprobs(ctx, planned, done) : null);
        const body = completedBody(ctx.perRequestStats ?? false, planned, done, output);
        onCompleted(body);
        emit('response.completed', { response: body });
        sink.close(closing);
      },
    },
    request.signal,
  );

  return {
    start(writer) {
      sink = writer;
      const initial = responseBody(planned, 'in_progress', [], null);
      emit('response.created', { response: initial });
      emit('response.in_progress', { response: initial });
    },
    abort: () => controller.abort(),
  };
}

/** A delta's logprob entry (OpenAI's ResponseTextDeltaEvent.Logprob: no bytes). */
function deltaLogprob(ctx: ServingContext, seed: number, pos: number, id: number, topN: number) {
  const lp = chatLogprob(ctx.tokenizer, seed, pos, id, topN);
  return {
    token: lp.token,
    logprob: lp.logprob,
    top_logprobs: lp.top_logprobs.map((t) => ({ token: t.token, logprob: t.logprob })),
  };
}

/** The answer's logprobs for the completed response, as objects (a frame is one JSON text). */
function finalLogprobs(ctx: ServingContext, planned: PlannedResponse, finished: FinishedEvent) {
  const choice = planned.gen.choices[0]!;
  const ids = choice.plan.tokenIds;
  const n = Math.min(finished.usage.completionTokens, ids.length);
  const topN = planned.req.top_logprobs ?? 0;
  const out = [];
  for (let pos = choice.plan.reasoning?.tokens ?? 0; pos < n; pos++) {
    const lp = chatLogprob(ctx.tokenizer, choice.seed, pos, ids[pos]!, topN);
    out.push({
      token: lp.token,
      logprob: lp.logprob,
      bytes: lp.bytes,
      top_logprobs: lp.top_logprobs.map((t) => ({
        token: t.token,
        logprob: t.logprob,
        bytes: t.bytes ?? [],
      })),
    });
  }
  return out;
}
