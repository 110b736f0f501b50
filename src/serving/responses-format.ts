/**
 * Engine results → the Responses API's response object (vLLM's `ResponsesResponse.from_request`
 * and `build_response_output_items`, vllm/entrypoints/openai/responses/protocol.py and utils.py):
 * the request's settings echoed, the output items, the status and the usage.
 *
 * Output items, in vLLM's order: a `reasoning` item when the reply reasoned (its text non-empty),
 * a `message` with one `output_text` part when the answer has text, one `function_call` per tool
 * call when the answer is complete tool calls (calls cut short by max_output_tokens are text, as
 * in chat; `parallel_tool_calls: false` keeps the first, as chat does). The
 * status is `incomplete` with `incomplete_details.reason: "max_output_tokens"` when the output
 * stopped at the token limit (vLLM: finish reason `length`), else `completed`.
 */
import { choiceReasoning, choiceText, completedToolCalls } from './chat-format.js';
import { nimStatsOf } from './nim-stats.js';
import { reasoningTokensOf } from './reasoning.js';
import type {
  EchoedTool,
  FunctionCallItem,
  OutputMessageItem,
  ReasoningItem,
  ResponsesBody,
  ResponsesOutputItem,
  ResponsesStatus,
  ResponsesUsage,
} from './responses-protocol.js';
import type { ResponsesRequest } from '../protocol/responses.js';
import type { FinishedEvent } from './run-generation.js';
import type { PlannedGeneration } from './to-engine.js';

/** The ids of a response's items, drawn once so the stream and the final response agree. */
export interface ResponseItemIds {
  readonly reasoning: string;
  readonly message: string;
  /** One per planned tool call, in order. */
  readonly functionCalls: readonly string[];
}

/** What the response echoes and how its output is named, fixed when the request is planned. */
export interface ResponseFrame {
  readonly req: ResponsesRequest;
  readonly gen: PlannedGeneration;
  readonly ids: ResponseItemIds;
  readonly created: number;
  readonly maxOutputTokens: number;
}

/** vLLM's defaults when the request leaves them out (ResponsesRequest._DEFAULT_SAMPLING_PARAMS). */
const DEFAULT_TEMPERATURE = 1;
const DEFAULT_TOP_P = 1;

/** The tool call's `call_id`: OpenAI's `call_` prefix on the plan's seeded id. */
export function callIdOf(toolCallId: string): string {
  return `call_${toolCallId.slice(toolCallId.lastIndexOf('-') + 1)}`;
}

export function statusOf(finished: FinishedEvent | undefined): ResponsesStatus {
  return finished?.reason === 'length' ? 'incomplete' : 'completed';
}

export function usageOfResponse(
  gen: PlannedGeneration,
  finished: FinishedEvent | undefined,
  reasoningTokens: number,
): ResponsesUsage {
  const output = finished?.usage.completionTokens ?? 0;
  return {
    input_tokens: gen.promptTokens,
    input_tokens_details: { cached_tokens: finished?.usage.cachedTokens ?? 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: gen.promptTokens + output,
  };
}

export function reasoningItem(id: string, text: string, status: ReasoningItem['status']): ReasoningItem {
  return { id, type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text }], status };
}

export function messageItem(
  id: string,
  text: string,
  logprobs: OutputMessageItem['content'][number]['logprobs'],
): OutputMessageItem {
  return {
    id,
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text, annotations: [], logprobs }],
  };
}

/** The `function_call` item of the reply's call number `index`. */
export function functionCallItem(
  f: ResponseFrame,
  index: number,
  arguments_: string,
  status: FunctionCallItem['status'],
): FunctionCallItem {
  const call = f.gen.choices[0]!.plan.toolCalls![index]!;
  return {
    id: f.ids.functionCalls[index]!,
    type: 'function_call',
    call_id: callIdOf(call.id),
    name: call.name,
    arguments: arguments_,
    status,
  };
}

/** The output items of a finished reply; `logprobs` fills the message part's (null: not asked). */
export function outputItems(
  f: ResponseFrame,
  finished: FinishedEvent | undefined,
  logprobs: OutputMessageItem['content'][number]['logprobs'] = null,
): ResponsesOutputItem[] {
  const n = finished?.usage.completionTokens ?? 0;
  const items: ResponsesOutputItem[] = [];
  const reasoning = choiceReasoning(f.gen, 0, n);
  // vLLM leaves a reasoning item's status unset: only the last item has one (utils.py).
  if (reasoning !== '') items.push(reasoningItem(f.ids.reasoning, reasoning, null));
  const calls = completedToolCalls(f.gen, 0, finished);
  if (calls !== undefined) {
    for (const call of calls) items.push(functionCallItem(f, call.index, call.arguments, 'completed'));
    return items;
  }
  // The answer's text only: '' for a reply cut inside its reasoning.
  const text = choiceText(f.gen, 0, n);
  if (text !== '') items.push(messageItem(f.ids.message, text, logprobs));
  return items;
}

function echoedTools(req: ResponsesRequest): EchoedTool[] {
  return (req.tools ?? []).map((t) => ({
    type: 'function',
    name: t.name,
    description: t.description ?? null,
    parameters: (t.parameters as Record<string, unknown> | null | undefined) ?? null,
    strict: t.strict ?? null,
  }));
}

/** The response object: `output` and `usage` empty while it is in progress (the stream's first events). */
export function responseBody(
  f: ResponseFrame,
  status: ResponsesStatus,
  output: ResponsesOutputItem[],
  usage: ResponsesUsage | null,
): ResponsesBody {
  const { req } = f;
  const choice = req.tool_choice ?? 'auto';
  return {
    id: f.gen.id,
    created_at: f.created,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: req.instructions ?? null,
    metadata: req.metadata ?? null,
    model: f.gen.model,
    object: 'response',
    output,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    temperature: req.temperature ?? DEFAULT_TEMPERATURE,
    tool_choice: typeof choice === 'string' ? choice : { type: 'function', name: choice.name },
    tools: echoedTools(req),
    top_p: req.top_p ?? DEFAULT_TOP_P,
    background: false,
    max_output_tokens: f.maxOutputTokens,
    max_tool_calls: req.max_tool_calls ?? null,
    previous_response_id: req.previous_response_id ?? null,
    prompt: null,
    reasoning: req.reasoning ?? null,
    service_tier: req.service_tier ?? 'auto',
    status,
    text: (req.text as Record<string, unknown> | null | undefined) ?? null,
    top_logprobs: wantsLogprobs(req) ? (req.top_logprobs ?? 0) : null,
    truncation: req.truncation ?? 'disabled',
    usage,
    user: req.user ?? null,
    input_messages: null,
    output_messages: null,
  };
}

/**
 * The finished response: its output, status and usage, and NIM's per-request `stats` when
 * NIM_PER_REQ_METRICS_ENABLE is on (as chat responses carry them).
 */
export function completedBody(
  perRequestStats: boolean,
  f: ResponseFrame,
  finished: FinishedEvent | undefined,
  output: ResponsesOutputItem[],
): ResponsesBody {
  const { gen } = f;
  const usage = usageOfResponse(gen, finished, reasoningTokensOf(gen, [finished]) ?? 0);
  const body = responseBody(f, statusOf(finished), output, usage);
  return perRequestStats ? { ...body, stats: nimStatsOf(gen.promptTokens, [finished], gen.replica) } : body;
}

/** `include: ["message.output_text.logprobs"]` (vLLM's `is_include_output_logprobs`). */
export function wantsLogprobs(req: Pick<ResponsesRequest, 'include'>): boolean {
  return req.include?.includes('message.output_text.logprobs') ?? false;
}
