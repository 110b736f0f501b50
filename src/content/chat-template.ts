/**
 * The Llama 3.1 Instruct chat template, rendered exactly as vLLM renders it through Hugging Face's
 * `apply_chat_template`, so prompt token counts equal the real model's.
 *
 * Source: the `chat_template` of meta-llama/Llama-3.1-8B-Instruct's tokenizer_config.json (same
 * text as in vLLM's `examples/tool_chat_template_llama3.1_json.jinja` apart from that file's default
 * system prompt and its `{"output": …}` wrapping of tool results). Behaviour copied from it:
 * - `<|begin_of_text|>`, then always a system turn: `Cutting Knowledge Date: December 2023\n`,
 *   `Today Date: 26 Jul 2024\n\n`, then the first message's content if its role is `system`;
 * - every other turn is `<|start_header_id|>{role}<|end_header_id|>\n\n{content|trim}<|eot_id|>`;
 * - with tools, the system turn starts with `Environment: ipython\n`, and the tools (each
 *   `tojson(indent=4)`) go into the first user message with the template's instructions;
 * - an assistant tool call is `{"name": "…", "parameters": {…}}` (one call per message only: the
 *   template raises "This model only supports single tool-calls at once!"). A model that makes
 *   parallel calls (`parallelToolCalls`) renders a message's calls joined by `"; "`, the text it
 *   wrote them in (tool-call-text.ts), so its own reply comes back token for token;
 * - a `tool` (or `ipython`) message becomes role `ipython` with its content `tojson`ed (Jinja counts
 *   strings as iterable, so a plain string result arrives quoted).
 * Other model families use this template too: their own templates are not implemented.
 */
import { ENCODE_SLICE_CHARS, promptText, TokenLimitError, type Tokenizer } from './tokenizer.js';
import { contentText } from '../util/content-text.js';
import { harmonySegments } from './chat-template-harmony.js';
import { JsonDepthError, pythonJson, pythonStrip } from './python-json.js';
import { mistralSegments } from './chat-template-mistral.js';

export interface ChatTextPart {
  readonly type: 'text';
  readonly text: string;
}

export interface ChatToolCall {
  readonly id?: string | undefined;
  readonly type?: string | undefined;
  readonly function: {
    readonly name: string;
    /** A JSON string as on the OpenAI wire (parsed before rendering, as vLLM does), or an object. */
    readonly arguments: string | Readonly<Record<string, unknown>>;
  };
}

export interface ChatMessage {
  readonly role: string;
  /** Text, or parts of which the `text` ones are joined with `\n` (vLLM's "string" content format). */
  readonly content?: string | readonly (ChatTextPart | { readonly type: string })[] | null | undefined;
  readonly tool_calls?: readonly ChatToolCall[] | null | undefined;
  readonly tool_call_id?: string | undefined;
  readonly name?: string | undefined;
  /**
   * An assistant message's reasoning sent back (the wire's `reasoning` field; vLLM's
   * `_parse_chat_message_content` reads that one, not `reasoning_content`). Only gpt-oss's Harmony
   * renders it, and only after the conversation's last final answer (chat-template-harmony.ts);
   * the think-style templates never do.
   */
  readonly reasoning?: string | undefined;
}

export interface ChatTemplateOptions {
  /** Append the assistant header so the model answers next (the chat endpoint always does). */
  readonly addGenerationPrompt: boolean;
  /** Wire `tools` (`{type, function: {name, description, parameters}}`); `undefined` = no tools. */
  readonly tools?: readonly unknown[] | undefined;
  /** The template's `date_string`; default `26 Jul 2024` as in the model's template. */
  readonly date?: string | undefined;
  /**
   * Stop tokenizing once the prompt has this many tokens and more remains, with TokenLimitError
   * (pass max_model_len: such a prompt is refused anyway). Absent: no limit.
   */
  readonly limit?: number | undefined;
  /**
   * Drop earlier assistant turns' reasoning, as DeepSeek-R1's and Nemotron's templates do: an
   * assistant message's content is rendered from after its last `</think>` (tokenizer_config.json
   * of deepseek-ai/DeepSeek-R1: `content.split('</think>')[-1]`; of
   * nvidia/Llama-3_3-Nemotron-Super-49B-v1: the same, then `lstrip()`). A reasoning field sent back
   * with the message is never rendered either, so the next turn's prompt leaves the prefix cache
   * where the previous turn's reasoning began.
   */
  readonly dropReasoning?: boolean | undefined;
  /**
   * The model makes several calls per turn (catalog `parallelToolCalls`): an assistant message's
   * calls render one after the other, joined by `"; "`, instead of being refused. These models'
   * own templates (Harmony, DeepSeek's) take several calls; this stand-in writes them as the
   * simulated model emitted them.
   */
  readonly parallelToolCalls?: boolean | undefined;
  /**
   * Which model's prompt format: Llama 3.1's (the default, also the stand-in for models whose own
   * is not simulated), Mixtral's `[INST]` (chat-template-mistral.ts) or gpt-oss's Harmony
   * (chat-template-harmony.ts). `applyChatTemplate` picks it from the tokenizer's family.
   */
  readonly format?: PromptFormat | undefined;
  /** gpt-oss's `reasoning_effort`, written into the Harmony system message (default medium). */
  readonly reasoningEffort?: 'low' | 'medium' | 'high' | undefined;
}

export type PromptFormat = 'llama3' | 'mistral' | 'harmony';

/** The prompt format of a tokenizer's models: Harmony for o200k, [INST] for Mistral, else Llama 3.1's. */
export function promptFormatOf(tokenizer: Pick<Tokenizer, 'family'>): PromptFormat {
  return tokenizer.family === 'o200k' ? 'harmony' : tokenizer.family === 'mistral' ? 'mistral' : 'llama3';
}

/** The template refused the conversation (the API answers 400 with this message, as vLLM does). */
export class ChatTemplateError extends Error {
  override readonly name = 'ChatTemplateError';
}

/** The prompt text, special tokens written out; for `/v1/chat/completions/render`-like debugging. */
export function renderChatTemplate(messages: readonly ChatMessage[], opts: ChatTemplateOptions): string {
  return buildSegments(messages, opts)
    .map((segment) => (typeof segment === 'string' ? segment : segment.special))
    .join('');
}

/**
 * The prompt token ids. Equal to `tokenizer.encode(renderChatTemplate(…))`, but each message's
 * content is encoded on its own (through the tokenizer's cache) where the split cannot change the
 * tokens, so resending a long history costs little. With `opts.limit`, throws TokenLimitError as
 * soon as the prompt is known to reach the limit before its end.
 */
export function applyChatTemplate(
  tokenizer: Tokenizer,
  messages: readonly ChatMessage[],
  opts: ChatTemplateOptions,
): number[] {
  const limit = opts.limit ?? Infinity;
  const ids: number[] = [];
  for (const text of encodingUnits(messages, withFormat(tokenizer, opts))) {
    if (ids.length >= limit || !tokenizer.encodeInto(text, ids, limit)) {
      throw new TokenLimitError(limit, ids.length);
    }
  }
  return ids;
}

/**
 * `applyChatTemplate` that yields to the event loop while tokenizing (Tokenizer.encodeIntoAsync):
 * a multi-megabyte message counted to max_model_len never holds the loop for long. Same ids,
 * same errors (a ChatTemplateError is thrown before any tokenizing).
 */
export async function applyChatTemplateAsync(
  tokenizer: Tokenizer,
  messages: readonly ChatMessage[],
  opts: ChatTemplateOptions,
): Promise<number[]> {
  const limit = opts.limit ?? Infinity;
  const ids: number[] = [];
  const units = encodingUnits(messages, withFormat(tokenizer, opts));
  let chars = 0;
  for (const text of units) chars += text.length;
  // A prompt within one slice is encoded in one go: awaiting each unit would only add a microtask
  // per unit to every ordinary request.
  const sync = chars <= ENCODE_SLICE_CHARS;
  for (const text of units) {
    if (ids.length >= limit) throw new TokenLimitError(limit, ids.length);
    const fits = sync
      ? tokenizer.encodeInto(text, ids, limit)
      : await tokenizer.encodeIntoAsync(text, ids, limit);
    if (!fits) throw new TokenLimitError(limit, ids.length);
  }
  return ids;
}

function withFormat(tokenizer: Tokenizer, opts: ChatTemplateOptions): ChatTemplateOptions {
  return opts.format === undefined ? { ...opts, format: promptFormatOf(tokenizer) } : opts;
}

/**
 * The rendered prompt as texts to encode one after the other: special tokens alone, and the plain
 * text between them — for Llama 3's pre-tokenizer split further where a split cannot change the
 * tokens; for Mistral's SentencePiece with its dummy prefix (a space) first. Built before it is
 * returned, so the template's refusals come before any tokenizing.
 */
function encodingUnits(messages: readonly ChatMessage[], opts: ChatTemplateOptions): string[] {
  const units: string[] = [];
  let pending = '';
  const splits = (opts.format ?? 'llama3') === 'llama3';
  const prefix = opts.format === 'mistral' ? ' ' : '';
  const flush = () => {
    if (pending !== '') units.push(prefix + pending);
    pending = '';
  };
  for (const segment of buildSegments(messages, opts)) {
    if (typeof segment !== 'string') {
      flush();
      units.push(segment.special);
    } else if (splits && endsWithNewline(pending) && /\S/.test(segment.charAt(0))) {
      // A newline run always closes a pre-token and a non-space character opens one, so encoding
      // the two sides separately gives the same ids as encoding them together.
      units.push(pending);
      pending = segment;
    } else {
      pending += segment;
    }
  }
  flush();
  return units;
}

/** Looks at the last character only: `/[\r\n]$/` would scan the whole (growing) pending text. */
function endsWithNewline(text: string): boolean {
  const last = text.charCodeAt(text.length - 1);
  return last === 0x0a || last === 0x0d;
}

/**
 * A completions (non-chat) prompt: BOS then the text, as vLLM tokenizes it for Llama 3. With
 * `limit`, throws TokenLimitError once the prompt reaches that many tokens before its end.
 */
export function encodeCompletionPrompt(tokenizer: Tokenizer, prompt: string, limit = Infinity): number[] {
  const ids = tokenizer.bosTokenId === undefined ? [] : [tokenizer.bosTokenId];
  if (!tokenizer.encodeInto(promptText(tokenizer, prompt), ids, limit))
    throw new TokenLimitError(limit, ids.length);
  return ids;
}

/** `encodeCompletionPrompt` that yields to the event loop while tokenizing (see applyChatTemplateAsync). */
export async function encodeCompletionPromptAsync(
  tokenizer: Tokenizer,
  prompt: string,
  limit = Infinity,
): Promise<number[]> {
  const ids = tokenizer.bosTokenId === undefined ? [] : [tokenizer.bosTokenId];
  if (!(await tokenizer.encodeIntoAsync(promptText(tokenizer, prompt), ids, limit))) {
    throw new TokenLimitError(limit, ids.length);
  }
  return ids;
}

/** Prompt text, or a special token's markup (encoded as that token). */
export type Segment = string | { readonly special: string };

const BOS = { special: '<|begin_of_text|>' };
const START_HEADER = { special: '<|start_header_id|>' };
const END_HEADER = { special: '<|end_header_id|>' };
const EOT = { special: '<|eot_id|>' };
const DEFAULT_DATE = '26 Jul 2024';
const TOOL_FORMAT =
  'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' +
  'Do not use variables.\n\n';

function buildSegments(messages: readonly ChatMessage[], opts: ChatTemplateOptions): Segment[] {
  if (opts.format === 'mistral') return mistralSegments(messages);
  if (opts.format === 'harmony') return harmonySegments(messages, opts);
  return llama3Segments(messages, opts);
}

function llama3Segments(messages: readonly ChatMessage[], opts: ChatTemplateOptions): Segment[] {
  const out: Segment[] = [BOS];
  const header = (role: string): void => {
    out.push(START_HEADER, role, END_HEADER, '\n\n');
  };
  let rest = messages;
  let systemMessage = '';
  if (rest[0]?.role === 'system') {
    systemMessage = pythonStrip(contentText(rest[0].content));
    rest = rest.slice(1);
  }
  const tools = opts.tools ?? undefined;

  header('system');
  if (tools !== undefined) out.push('Environment: ipython\n');
  out.push(`Cutting Knowledge Date: December 2023\nToday Date: ${opts.date ?? DEFAULT_DATE}\n\n`);
  out.push(systemMessage, EOT);

  if (tools !== undefined) {
    // tools_in_user_message defaults to true: the first remaining message carries the tools,
    // whatever its role.
    const first = rest[0];
    if (first === undefined) {
      throw new ChatTemplateError(
        "Cannot put tools in the first user message when there's no first user message!",
      );
    }
    rest = rest.slice(1);
    header('user');
    out.push(
      'Given the following functions, please respond with a JSON for a function call ' +
        'with its proper arguments that best answers the given prompt.\n\n' +
        TOOL_FORMAT,
    );
    tools.forEach((tool, i) => out.push(templateJson(toolForTemplate(tool), `tools[${i}]`, 4) + '\n\n'));
    out.push(pythonStrip(contentText(first.content)), EOT);
  }

  for (const message of rest) {
    // An empty list counts as no tool calls; the Jinja template would reject it, which only
    // punishes clients that always send the field.
    const toolCalls = message.tool_calls ?? [];
    if (toolCalls.length > 0) {
      if (toolCalls.length !== 1 && opts.parallelToolCalls !== true) {
        throw new ChatTemplateError('This model only supports single tool-calls at once!');
      }
      header('assistant');
      const calls = toolCalls.map((call) => {
        const args = templateJson(parseArguments(call.function.arguments), 'tool call arguments');
        return `{"name": "${call.function.name}", "parameters": ${args}}`;
      });
      out.push(calls.join('; '), EOT);
    } else if (message.role === 'tool' || message.role === 'ipython') {
      header('ipython');
      out.push(templateJson(contentText(message.content), 'tool message content'), EOT);
    } else {
      header(message.role);
      let text = contentText(message.content);
      if (opts.dropReasoning === true && message.role === 'assistant') text = afterReasoning(text);
      out.push(pythonStrip(text), EOT);
    }
  }
  if (opts.addGenerationPrompt) header('assistant');
  return out;
}

function afterReasoning(content: string): string {
  const end = content.lastIndexOf('</think>');
  return end < 0 ? content : content.slice(end + '</think>'.length);
}

/** `tojson` inside the template: a value nested too deeply is the client's 400, not a crash. */
function templateJson(value: unknown, what: string, indent?: number): string {
  try {
    return pythonJson(value, indent);
  } catch (err) {
    if (err instanceof JsonDepthError) throw new ChatTemplateError(`${what}: ${err.message}`);
    throw err;
  }
}

/** vLLM parses the wire's JSON string before rendering; text that is not JSON stays a string. */
function parseArguments(args: ChatToolCall['function']['arguments']): unknown {
  if (typeof args !== 'string') return args;
  try {
    return JSON.parse(args) as unknown;
  } catch {
    return args;
  }
}

/**
 * vLLM hands the template `tool.model_dump()`: `type` and `function` first, the function's
 * `name`, `description` and `parameters` always present (null when missing), extra keys after.
 */
function toolForTemplate(tool: unknown): unknown {
  if (!isRecord(tool) || !isRecord(tool.function)) return tool;
  const { type, function: fn, ...extraTop } = tool;
  const { name, description, parameters, ...extraFn } = fn;
  return {
    type: type ?? 'function',
    function: { name, description: description ?? null, parameters: parameters ?? null, ...extraFn },
    ...extraTop,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
