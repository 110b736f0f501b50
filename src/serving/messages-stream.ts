/**
 * A /v1/messages stream: Anthropic's event sequence (https://docs.anthropic.com/en/docs/build-with-claude/streaming)
 * as vLLM's converter produces it from the chat stream (vllm/entrypoints/anthropic/serving.py
 * `message_stream_converter`):
 *
 *   message_start → per content block: content_block_start, content_block_delta…, content_block_stop
 *   → message_delta (stop_reason, stop_sequence, usage) → message_stop
 *
 * Blocks open as the output changes kind: reasoning opens a `thinking` block (thinking_delta;
 * closed by a signature_delta, as vLLM does), answer text a `text` block (text_delta), a parsed
 * tool call a `tool_use` block when its name is complete (input_json_delta with the arguments as
 * the model writes them). Empty pieces open nothing, so a reply with no text has no text block.
 * No `ping` events: vLLM sends none. `message_start` goes out at once, before the prompt is
 * scheduled, so its usage has the prompt's token count and no cache fields (vLLM's first chunk
 * has no cache details either); `message_delta` carries the final usage with the cache split.
 *
 * A failure after the stream began is one `error` event (Anthropic's error body) and the end of
 * the stream; a client that goes away aborts the generation, freeing its slot and KV blocks.
 */
import { toolCallDeltas, type ToolCallDelta } from '../content/tool-call-text.js';
import { streamsToolCall } from './chat-format.js';
import { toAnthropicError, type AnthropicErrorBody } from './anthropic-errors.js';
import type { ServingContext } from './context.js';
import {
  anthropicUsage,
  stopOf,
  thinkingSignature,
  toolUseId,
  type AnthropicUsage,
  type ContentBlock,
  type MessageBody,
  type WireStopReason,
} from './messages-format.js';
import { nimStatsOf, type NimStats } from './nim-stats.js';
import { runGeneration, type FinishedEvent } from './run-generation.js';
import type { ChunkSink, FrameSource, ServingRequest } from './served.js';
import type { PlannedGeneration } from './to-engine.js';

type StartedBlock =
  | { type: 'text'; text: '' }
  | { type: 'thinking'; thinking: ''; signature: '' }
  | Extract<ContentBlock, { type: 'tool_use' }>;

type BlockDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string }
  | { type: 'input_json_delta'; partial_json: string };

/** Every event of the stream; the SSE writer names each frame by its `type`. */
export type MessageStreamEvent =
  | { type: 'message_start'; message: MessageBody }
  | { type: 'content_block_start'; index: number; content_block: StartedBlock }
  | { type: 'content_block_delta'; index: number; delta: BlockDelta }
  | { type: 'content_block_stop'; index: number }
  | {
      type: 'message_delta';
      delta: { stop_reason: WireStopReason | null; stop_sequence: string | null };
      usage: AnthropicUsage;
      stats?: NimStats;
    }
  | { type: 'message_stop' }
  | AnthropicErrorBody;

/**
 * Submits the generation now, so a refusal (queue full) is still an HTTP status; events go to the
 * sink the HTTP layer starts once the response exists.
 */
export function streamMessages(
  ctx: ServingContext,
  gen: PlannedGeneration,
  request: ServingRequest,
): FrameSource<MessageStreamEvent> {
  const choice = gen.choices[0]!;
  const plan = choice.plan;
  const reasoningTokens = plan.reasoning?.tokens ?? 0;
  // Planned tool calls stream as vLLM's tool parser sends them: each name once complete, then its
  // arguments; after a reasoning, from the answer's first token on. Each call is a tool_use block.
  const toolDeltas: (readonly ToolCallDelta[])[] | undefined =
    plan.toolCalls === undefined
      ? undefined
      : toolCallDeltas(plan.pieces.slice(reasoningTokens), plan.toolCalls);
  let sink: ChunkSink<MessageStreamEvent> | undefined;
  let finished: FinishedEvent | undefined;

  // The block being written: its index and kind (undefined between blocks).
  let index = -1;
  let open: StartedBlock['type'] | undefined;
  const stopBlock = () => {
    if (open === undefined) return;
    if (open === 'thinking') {
      sink?.send({
        type: 'content_block_delta',
        index,
        delta: { type: 'signature_delta', signature: thinkingSignature(choice.seed) },
      });
    }
    sink?.send({ type: 'content_block_stop', index });
    open = undefined;
  };
  const startBlock = (block: StartedBlock) => {
    stopBlock();
    index++;
    open = block.type;
    sink?.send({ type: 'content_block_start', index, content_block: block });
  };
  const delta = (d: BlockDelta) => sink?.send({ type: 'content_block_delta', index, delta: d });

  const controller = runGeneration(
    ctx.engine,
    gen,
    {
      onToken(_i, pos) {
        const text = plan.pieces[pos] ?? '';
        if (pos < reasoningTokens) {
          if (text === '') return;
          if (open !== 'thinking') startBlock({ type: 'thinking', thinking: '', signature: '' });
          delta({ type: 'thinking_delta', thinking: text });
          return;
        }
        const deltas = toolDeltas?.[pos - reasoningTokens];
        if (deltas !== undefined) {
          for (const toolDelta of deltas) {
            // disable_parallel_tool_use: the first call only (chat's parallel_tool_calls false).
            if (!streamsToolCall(gen, toolDelta.index)) continue;
            const call = plan.toolCalls![toolDelta.index]!;
            if (toolDelta.header) {
              startBlock({ type: 'tool_use', id: toolUseId(call.id), name: call.name, input: {} });
            }
            if (toolDelta.arguments !== '' && open === 'tool_use') {
              delta({ type: 'input_json_delta', partial_json: toolDelta.arguments });
            }
          }
          return;
        }
        if (text === '') return;
        if (open !== 'text') startBlock({ type: 'text', text: '' });
        delta({ type: 'text_delta', text });
      },
      onFinished(_i, ev) {
        finished = ev;
      },
      onFailed(_i, error) {
        sink?.send(toAnthropicError(error).body);
        sink?.close();
        controller.abort();
      },
      onDone() {
        const outputTokens = finished?.usage.completionTokens ?? 0;
        const cachedTokens = finished?.usage.cachedTokens ?? 0;
        request.noteUsage({
          prompt_tokens: gen.promptTokens,
          completion_tokens: outputTokens,
          prompt_tokens_details: ctx.cachingOn ? { cached_tokens: cachedTokens } : null,
          session: choice.request.sessionKey,
          replica: gen.replica,
        });
        // A client that went away closed the sink; a drain's abort ends with stop_reason null.
        if (sink === undefined || sink.closed) return;
        stopBlock();
        sink.send({
          type: 'message_delta',
          delta: stopOf(gen, finished),
          usage: anthropicUsage(gen.promptTokens, outputTokens, ctx.cachingOn, cachedTokens),
          ...(ctx.perRequestStats ? { stats: nimStatsOf(gen.promptTokens, [finished], gen.replica) } : {}),
        });
        sink.send({ type: 'message_stop' });
        sink.close();
      },
    },
    request.signal,
  );

  return {
    start(writer) {
      sink = writer;
      writer.send({
        type: 'message_start',
        message: {
          id: gen.id,
          type: 'message',
          role: 'assistant',
          content: [],
          model: gen.model,
          stop_reason: null,
          stop_sequence: null,
          usage: anthropicUsage(gen.promptTokens, 0, ctx.cachingOn, undefined),
        },
      });
    },
    abort: () => controller.abort(),
  };
}
