/**
 * Tool calls as a Llama 3.1 model makes them: which tool (tool_choice), the arguments (seeded,
 * valid against the tool's JSON Schema) and the exact text the model emits, which the API parses
 * back as vLLM's `llama3_json` tool parser does.
 *
 * Text per tool_choice, as vLLM produces it (vllm/entrypoints/openai/serving_chat.py):
 * - `auto`: the model writes `{"name": …, "parameters": {…}}` (the template's instruction); the
 *   parser turns `parameters` into `arguments` with `json.dumps` — Python's `", "` / `": "`
 *   separators (vllm/entrypoints/openai/tool_parsers/llama_tool_parser.py);
 * - `required`: guided decoding forces a JSON array `[{"name": …, "parameters": {…}}]`;
 * - named: guided decoding forces the parameters object alone; the API adds the name.
 * finish_reason is `tool_calls` for `auto` and `required`, `stop` for a named call (vLLM follows
 * OpenAI there).
 */
import { generateJson, type SchemaJson } from './json-schema.js';
import { createRandom, hashSeed } from '../util/random.js';

/** A tool offered in the request (`tools[].function`). */
export interface ToolDef {
  readonly name: string;
  readonly description?: string | null | undefined;
  readonly parameters?: unknown;
}

/** `tool_choice`: `none`, `auto`, `required` or a named function. */
export type ToolChoice = 'none' | 'auto' | 'required' | { readonly name: string };

/** How the call is written into the output tokens (see the module comment). */
export type ToolCallStyle = 'auto' | 'required' | 'named';

/** A planned call: where its parts lie in the output text, for streaming deltas. */
export interface ToolCallPlan {
  /** `chatcmpl-tool-<32 hex>`, as vLLM's `random_tool_call_id`, but seeded. */
  readonly id: string;
  readonly name: string;
  /** JSON text of the arguments, exactly as sent in `function.arguments`. */
  readonly arguments: string;
  readonly style: ToolCallStyle;
  /** Offset in the output text where the arguments start; they end `arguments.length` later. */
  readonly argsStart: number;
  /** Offset in the output text once the name is complete (0 for a named call). */
  readonly nameEnd: number;
}

const STOP_WORDS = new Set(
  (
    'the a an and or but for with from into onto about what which who whom whose when where why how ' +
    'is are was were be been being do does did have has had can could would should will shall may ' +
    'might must this that these those there here please tell give show find get me my your you our ' +
    'its it i we they them their of to in on at by as if then than so not no yes any some all'
  ).split(' '),
);

/** Content words, lower-cased and roughly singular, split on snake_case and camelCase too. */
function words(text: string): Set<string> {
  const out = new Set<string>();
  const spaced = text.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  for (const raw of spaced.split(/[^a-z0-9]+/)) {
    if (raw.length < 3 || STOP_WORDS.has(raw)) continue;
    out.add(raw.length > 3 && raw.endsWith('s') && !raw.endsWith('ss') ? raw.slice(0, -1) : raw);
  }
  return out;
}

/**
 * The last message's words, kept for the next call: every tool (up to 512) and every choice (up to
 * 128) of a request scores against the same message, which may be ~500 KB; splitting it per tool
 * cost tools x message length.
 */
let lastMessage: { readonly text: string; readonly words: Set<string> } | undefined;
function messageWords(message: string): Set<string> {
  if (lastMessage?.text !== message) lastMessage = { text: message, words: words(message) };
  return lastMessage.words;
}

/** Shared content words between the message and the tool's name and description. */
export function toolRelevance(tool: ToolDef, message: string): number {
  const asked = messageWords(message);
  let score = 0;
  for (const word of words(`${tool.name} ${tool.description ?? ''}`)) if (asked.has(word)) score++;
  return score;
}

export interface ToolChoiceContext {
  /** Role of the last message: after a `tool` result, `auto` answers in prose. */
  readonly lastRole: string;
  /** The last user message's text. */
  readonly lastUserText: string;
  readonly seed: number;
}

/**
 * The tool to call, or undefined for a plain answer. `auto` calls the tool whose name and
 * description share the most content words with the last user message (at least one), ties
 * broken by the seed; `required` always calls one (the most relevant, else a seeded pick).
 */
export function chooseTool(
  tools: readonly ToolDef[],
  choice: ToolChoice,
  ctx: ToolChoiceContext,
): ToolDef | undefined {
  if (tools.length === 0 || choice === 'none') return undefined;
  if (typeof choice === 'object') return tools.find((t) => t.name === choice.name);
  if (choice === 'auto' && (ctx.lastRole === 'tool' || ctx.lastRole === 'ipython')) return undefined;
  const scores = tools.map((tool) => toolRelevance(tool, ctx.lastUserText));
  const best = Math.max(...scores);
  const rng = createRandom(hashSeed(ctx.seed, 'tool-choice'));
  if (best <= 0) return choice === 'required' ? tools[rng.nextInt(tools.length)] : undefined;
  const top = tools.filter((_, i) => scores[i] === best);
  return top[rng.nextInt(top.length)];
}

/**
 * Seeded arguments valid against the tool's `parameters` schema (`{}` when it has none), as JSON
 * text, generated within `budgetChars` (json-schema.ts `schemaBudget`); a schema whose smallest
 * value is longer than that is a JsonSchemaError.
 */
export function generateArguments(tool: ToolDef | undefined, seed: number, budgetChars: number): SchemaJson {
  const schema = tool?.parameters;
  if (schema === undefined || schema === null) return { text: '{}', truncated: false };
  return generateJson(schema, hashSeed(seed, 'tool-arguments'), budgetChars, { refuseOversized: true });
}

/** The text the model emits for a call (`argsJson` in Python's spelling), and where its parts lie. */
export function planToolCallText(
  name: string,
  argsJson: string,
  style: ToolCallStyle,
  seed: number,
): { readonly text: string; readonly call: ToolCallPlan } {
  const head = style === 'named' ? '' : `${style === 'required' ? '[' : ''}{"name": ${JSON.stringify(name)}`;
  const middle = style === 'named' ? '' : ', "parameters": ';
  const tail = style === 'named' ? '' : style === 'required' ? '}]' : '}';
  const text = head + middle + argsJson + tail;
  return {
    text,
    call: {
      id: `chatcmpl-tool-${toolCallIdHex(seed)}`,
      name,
      arguments: argsJson,
      style,
      argsStart: head.length + middle.length,
      nameEnd: head.length,
    },
  };
}

function toolCallIdHex(seed: number): string {
  const rng = createRandom(hashSeed(seed, 'tool-call-id'));
  let hex = '';
  for (let i = 0; i < 4; i++) hex += rng.nextUint32().toString(16).padStart(8, '0');
  return hex;
}

/** One token's share of a streamed tool call. */
export interface ToolCallDelta {
  /** This token completes the name: send id, type and name (vLLM sends them in one delta). */
  readonly header: boolean;
  /** New characters of `arguments` ('' when none). */
  readonly arguments: string;
}

/**
 * Per token, what a streaming client receives for the call. vLLM holds the name back until it is
 * complete, then streams the arguments as the model writes them; the last token flushes the rest
 * (its streaming parser re-serialises partial JSON, which lands on the same text for the
 * `json.dumps` spelling used here).
 */
export function toolCallDeltas(pieces: readonly string[], call: ToolCallPlan): ToolCallDelta[] {
  const argsEnd = call.argsStart + call.arguments.length;
  let at = 0;
  let headerSent = false;
  let sent = 0;
  return pieces.map((piece, index) => {
    at += piece.length;
    const last = index === pieces.length - 1;
    const header = !headerSent && (at >= Math.max(1, call.nameEnd) || last);
    if (header) headerSent = true;
    const upTo = last ? call.arguments.length : Math.max(0, Math.min(at, argsEnd) - call.argsStart);
    const delta = headerSent && upTo > sent ? call.arguments.slice(sent, upTo) : '';
    if (headerSent) sent = Math.max(sent, upTo);
    return { header, arguments: delta };
  });
}
