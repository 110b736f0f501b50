/**
 * The text a Llama-3-style model writes for its tool calls, where each call's parts lie in it, and
 * what a streaming client receives per token — as vLLM produces and parses it.
 *
 * Text per style (vllm/entrypoints/openai/tool_parsers/llama_tool_parser.py; serving_chat.py):
 * - `auto`: `{"name": …, "parameters": {…}}`, several calls joined by `"; "` — the parser's
 *   regex takes JSON objects separated by semicolons, and its streaming side steps over
 *   `len('; ')` between them;
 * - `required`: guided decoding forces a JSON array, `[{"name": …, "parameters": {…}}, {…}]`;
 * - `named`: guided decoding forces the parameters object alone (one call); the API adds the name.
 * The arguments are written in `json.dumps` spelling (`", "` / `": "`), which is what the parser
 * sends back as `function.arguments`.
 */
import { createRandom, hashSeed } from '../util/random.js';

/** How the calls are written into the output tokens. */
export type ToolCallStyle = 'auto' | 'required' | 'named';

/** A planned call: where its parts lie in the output text, for streaming deltas. */
export interface ToolCallPlan {
  /** Position among the turn's calls: the `index` of its streamed deltas. */
  readonly index: number;
  /** `chatcmpl-tool-<32 hex>`, as vLLM's `random_tool_call_id`, but seeded. */
  readonly id: string;
  readonly name: string;
  /** JSON text of the arguments, exactly as sent in `function.arguments`. */
  readonly arguments: string;
  readonly style: ToolCallStyle;
  /** Offset in the output text where the arguments start; they end `arguments.length` later. */
  readonly argsStart: number;
  /** Offset in the output text once the name is complete (the call's start for a named call). */
  readonly nameEnd: number;
}

/** One call to write: its tool's name and its arguments' JSON text. */
export interface CallText {
  readonly name: string;
  readonly argsJson: string;
}

/** The calls' text and where each call's parts lie; `seed` makes the ids. */
export function planToolCallsText(
  calls: readonly CallText[],
  style: ToolCallStyle,
  seed: number,
): { readonly text: string; readonly calls: readonly ToolCallPlan[] } {
  let text = style === 'required' ? '[' : '';
  const planned: ToolCallPlan[] = [];
  calls.forEach((call, index) => {
    if (index > 0) text += style === 'required' ? ', ' : '; ';
    const head = style === 'named' ? '' : `{"name": ${JSON.stringify(call.name)}`;
    const middle = style === 'named' ? '' : ', "parameters": ';
    const nameEnd = text.length + head.length;
    const argsStart = nameEnd + middle.length;
    text += head + middle + call.argsJson + (style === 'named' ? '' : '}');
    planned.push({
      index,
      id: toolCallId(seed, index),
      name: call.name,
      arguments: call.argsJson,
      style,
      argsStart,
      nameEnd,
    });
  });
  if (style === 'required') text += ']';
  return { text, calls: planned };
}

/** `chatcmpl-tool-<32 hex>`, seeded per call (the first call's id is the one a single call had). */
function toolCallId(seed: number, index: number): string {
  const rng = createRandom(
    index === 0 ? hashSeed(seed, 'tool-call-id') : hashSeed(seed, 'tool-call-id', index),
  );
  let hex = '';
  for (let i = 0; i < 4; i++) hex += rng.nextUint32().toString(16).padStart(8, '0');
  return `chatcmpl-tool-${hex}`;
}

/** One share of a streamed call. */
export interface ToolCallDelta {
  /** Which call (`tool_calls[].index` on the wire). */
  readonly index: number;
  /** This token completes the call's name: send id, type and name (vLLM sends them in one delta). */
  readonly header: boolean;
  /** New characters of the call's `arguments` ('' when none). */
  readonly arguments: string;
}

const NO_DELTAS: readonly ToolCallDelta[] = [];

/**
 * Per token, what a streaming client receives for the calls, in call order. vLLM holds a name back
 * until it is complete, then streams the arguments as the model writes them; a call's header comes
 * once the call before it is done, and the last token flushes whatever remains (its streaming
 * parser re-serialises partial JSON, which lands on the same text for the `json.dumps` spelling
 * used here).
 */
export function toolCallDeltas(
  pieces: readonly string[],
  calls: readonly ToolCallPlan[],
): (readonly ToolCallDelta[])[] {
  const headerSent = calls.map(() => false);
  const sent = calls.map(() => 0);
  let at = 0;
  return pieces.map((piece, token) => {
    at += piece.length;
    const last = token === pieces.length - 1;
    let deltas: ToolCallDelta[] | undefined;
    for (const call of calls) {
      const k = call.index;
      let header = false;
      if (!headerSent[k]) {
        if (!last && at < Math.max(1, call.nameEnd)) break;
        headerSent[k] = header = true;
      }
      const argsEnd = call.argsStart + call.arguments.length;
      const upTo = last ? call.arguments.length : Math.max(0, Math.min(at, argsEnd) - call.argsStart);
      const delta = upTo > sent[k]! ? call.arguments.slice(sent[k], upTo) : '';
      sent[k] = Math.max(sent[k]!, upTo);
      if (header || delta !== '') (deltas ??= []).push({ index: k, header, arguments: delta });
    }
    return deltas ?? NO_DELTAS;
  });
}
