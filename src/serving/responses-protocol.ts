/**
 * The Responses API objects nimsim sends: the response and its output items, and the stream's
 * events, in the shapes vLLM's server sends them (vllm/entrypoints/openai/responses/protocol.py,
 * `ResponsesResponse`; its items and events are the `openai` package's pydantic models, dumped
 * with their null fields). Typed against the `openai` package's types where they agree, with the
 * differences spelt out:
 *
 * - the response has no `output_text` (the SDKs add it client-side: openai-node
 *   lib/ResponsesParser.ts `addOutputText`) and no `error`; it has vLLM's extra fields
 *   (`input_messages`, `output_messages`: null unless asked for, which nimsim does not serve);
 * - an `output_text` part carries `logprobs: null` unless logprobs were asked for; a reasoning
 *   item's `status` is null in the response (vLLM sets it on the stream's items only).
 */
import type {
  ResponseFunctionToolCall,
  ResponseOutputMessage,
  ResponseOutputText,
  ResponseReasoningItem,
  ResponseUsage,
} from 'openai/resources/responses/responses';
import type { StreamedArray } from './json-body.js';
import type { NimStats } from './nim-stats.js';

export type OutputTextPart = Omit<ResponseOutputText, 'annotations' | 'logprobs'> & {
  annotations: never[];
  /** Written as the body is (json-body.ts) when asked for; null otherwise. */
  logprobs: ResponseOutputText['logprobs'] | StreamedArray | null;
};

export type OutputMessageItem = Omit<ResponseOutputMessage, 'content' | 'phase'> & {
  content: OutputTextPart[];
};

export type FunctionCallItem = Omit<ResponseFunctionToolCall, 'caller' | 'namespace'> & { id: string };

export type ReasoningItem = Omit<ResponseReasoningItem, 'status' | 'encrypted_content'> & {
  status: ResponseReasoningItem['status'] | null;
};

export type ResponsesOutputItem = OutputMessageItem | FunctionCallItem | ReasoningItem;

/** OpenAI's usage; cached_tokens from the prefix cache, reasoning_tokens from the plan. */
export interface ResponsesUsage extends Pick<
  ResponseUsage,
  'input_tokens' | 'output_tokens' | 'total_tokens'
> {
  input_tokens_details: { cached_tokens: number };
  output_tokens_details: { reasoning_tokens: number };
}

/** The flat function tool, echoed with its null fields as vLLM's `FunctionTool` dump has them. */
export interface EchoedTool {
  type: 'function';
  name: string;
  description: string | null;
  parameters: Record<string, unknown> | null;
  strict: boolean | null;
}

export type ResponsesStatus = 'completed' | 'incomplete' | 'in_progress';

/** vLLM's `ResponsesResponse.from_request`: the request's settings echoed, the output and usage. */
export interface ResponsesBody {
  id: string;
  created_at: number;
  incomplete_details: { reason: 'max_output_tokens' } | null;
  instructions: string | null;
  metadata: Record<string, string> | null;
  model: string;
  object: 'response';
  output: ResponsesOutputItem[];
  parallel_tool_calls: boolean;
  temperature: number;
  tool_choice: 'none' | 'auto' | 'required' | { type: 'function'; name: string };
  tools: EchoedTool[];
  top_p: number;
  background: boolean;
  max_output_tokens: number;
  max_tool_calls: number | null;
  previous_response_id: string | null;
  prompt: null;
  reasoning: { effort?: string | null; summary?: string | null } | null;
  service_tier: string;
  status: ResponsesStatus;
  text: Record<string, unknown> | null;
  top_logprobs: number | null;
  truncation: string;
  usage: ResponsesUsage | null;
  user: string | null;
  input_messages: null;
  output_messages: null;
  /** NIM's per-request stats (NIM_PER_REQ_METRICS_ENABLE), as on chat responses. */
  stats?: NimStats;
}

/** One event of a streamed response: its `type`, its place in the stream, and its fields. */
export interface ResponsesEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}
