/**
 * gpt-oss's prompt in OpenAI's Harmony format (openai/harmony, "OpenAI Harmony Response Format";
 * the chat_template of openai/gpt-oss-120b renders the same):
 *
 *   <|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.
 *   Knowledge cutoff: 2024-06
 *   Current date: …
 *
 *   Reasoning: medium
 *
 *   # Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>
 *   <|start|>developer<|message|># Instructions\n\n{system prompt}\n\n# Tools … <|end|>
 *   <|start|>user<|message|>{content}<|end|>
 *   <|start|>assistant<|channel|>final<|message|>{answer}<|end|>   (earlier answers)
 *   <|start|>assistant<|channel|>analysis<|message|>{reasoning}<|end|>  (since the last answer)
 *   <|start|>assistant to=functions.{name}<|channel|>commentary json<|message|>{args}<|call|>
 *   <|start|>functions.{name} to=assistant<|channel|>commentary<|message|>{result}<|end|>
 *   <|start|>assistant                                                  (the generation prompt)
 *
 * (shown on several lines; the tokens follow each other). Tools are declared as a TypeScript
 * namespace, `type get_weather = (_: { city: string, unit?: "celsius" | "fahrenheit" }) => any;`,
 * with the descriptions as comments: a subset of Harmony's schema rendering (objects, enums,
 * arrays, unions, defaults), so a tool-heavy prompt counts within a few tokens of the real one.
 * The date is fixed (the real template writes today's) so that prompts, and their cached prefixes,
 * do not change from one day to the next. Reasoning sent back (an assistant message's `reasoning`)
 * is dropped up to the last final answer, kept after it — an agent loop's reasoning between its
 * tool calls — as vLLM drops the analysis channel (see `lastFinalAnswer`).
 */
import { contentText } from '../util/content-text.js';
import type { ChatMessage, Segment } from './chat-template.js';
import { pythonJson } from './python-json.js';

const START = { special: '<|start|>' };
const MESSAGE = { special: '<|message|>' };
const CHANNEL = { special: '<|channel|>' };
const END = { special: '<|end|>' };
const CALL = { special: '<|call|>' };
/** The date the template's system message shows (gpt-oss's release; see the module comment). */
const CURRENT_DATE = '2025-08-05';

export interface HarmonyOptions {
  readonly tools?: readonly unknown[] | undefined;
  readonly reasoningEffort?: 'low' | 'medium' | 'high' | undefined;
  readonly addGenerationPrompt: boolean;
}

export function harmonySegments(messages: readonly ChatMessage[], opts: HarmonyOptions): Segment[] {
  const out: Segment[] = [];
  const functions = (opts.tools ?? []).map(functionOf).filter((f) => f !== undefined);
  let system =
    'You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\n' +
    `Current date: ${CURRENT_DATE}\n\nReasoning: ${opts.reasoningEffort ?? 'medium'}\n\n` +
    '# Valid channels: analysis, commentary, final. Channel must be included for every message.';
  if (functions.length > 0)
    system += "\nCalls to these tools must go to the commentary channel: 'functions'.";
  out.push(START, 'system', MESSAGE, system, END);

  const instructions = messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => contentText(m.content))
    .join('\n\n');
  if (instructions !== '' || functions.length > 0) {
    let developer = instructions === '' ? '' : `# Instructions\n\n${instructions}`;
    if (functions.length > 0) {
      if (developer !== '') developer += '\n\n';
      developer += `# Tools\n\n## functions\n\nnamespace functions {\n\n${functions.join('\n\n')}\n\n} // namespace functions`;
    }
    out.push(START, 'developer', MESSAGE, developer, END);
  }

  // The tool a `tool` message answers, by call id (Harmony names the function, not the call).
  const callNames = new Map<string, string>();
  let lastCall = '';
  // Reasoning sent back is kept only after the last final answer: an agent loop's tool calls since
  // then (see `lastFinalAnswer`).
  const keepReasoningAfter = lastFinalAnswer(messages);
  messages.forEach((message, index) => {
    if (message.role === 'system' || message.role === 'developer') return;
    if (message.role === 'assistant') {
      const calls = message.tool_calls ?? [];
      const text = afterReasoning(contentText(message.content));
      const reasoning = index > keepReasoningAfter ? message.reasoning : undefined;
      if (calls.length === 0) {
        // An answer's own reasoning precedes it, so it is dropped with the others.
        if (reasoning !== undefined && text === '') out.push(...analysis(reasoning));
        if (text !== '') out.push(START, 'assistant', CHANNEL, 'final', MESSAGE, text, END);
        return;
      }
      // Text beside tool calls is a preamble: the commentary channel (vLLM's
      // `parse_chat_input_to_harmony_message`), then the reasoning, then the calls.
      if (text !== '') out.push(START, 'assistant', CHANNEL, 'commentary', MESSAGE, text, END);
      if (reasoning !== undefined) out.push(...analysis(reasoning));
      for (const call of calls) {
        const name = call.function.name;
        if (call.id !== undefined) callNames.set(call.id, name);
        lastCall = name;
        const args =
          typeof call.function.arguments === 'string'
            ? call.function.arguments
            : pythonJson(call.function.arguments);
        out.push(START, `assistant to=functions.${name}`, CHANNEL, 'commentary json', MESSAGE, args, CALL);
      }
    } else if (message.role === 'tool' || message.role === 'ipython') {
      const name = (message.tool_call_id && callNames.get(message.tool_call_id)) || message.name || lastCall;
      out.push(START, `functions.${name} to=assistant`, CHANNEL, 'commentary', MESSAGE);
      out.push(contentText(message.content), END);
    } else {
      out.push(START, message.role, MESSAGE, contentText(message.content), END);
    }
  });
  if (opts.addGenerationPrompt) out.push(START, 'assistant');
  return out;
}

/** An analysis-channel message: reasoning the prompt keeps. */
function analysis(reasoning: string): Segment[] {
  return [START, 'assistant', CHANNEL, 'analysis', MESSAGE, reasoning, END];
}

/**
 * The index of the last assistant message that answers on the final channel (text, no tool
 * calls), or -1. Reasoning before it is dropped, reasoning after it kept: vLLM's
 * `auto_drop_analysis_messages` (vllm/entrypoints/harmony_utils.py), after OpenAI's rule for
 * gpt-oss — drop the analysis once a final message follows it, keep it while the assistant's last
 * message was a tool call (https://developers.openai.com/cookbook/articles/gpt-oss/handle-raw-cot).
 */
function lastFinalAnswer(messages: readonly ChatMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role !== 'assistant' || (m.tool_calls ?? []).length > 0) continue;
    if (afterReasoning(contentText(m.content)) !== '') return i;
  }
  return -1;
}

/** A gpt-oss answer sent back may carry its reasoning; the template keeps the final text only. */
function afterReasoning(text: string): string {
  const marker = '<|channel|>final<|message|>';
  const at = text.lastIndexOf(marker);
  return at < 0 ? text : text.slice(at + marker.length);
}

/** `// description\ntype name = (_: {…}) => any;` for a wire tool, or undefined. */
function functionOf(tool: unknown): string | undefined {
  const fn = isRecord(tool) && isRecord(tool['function']) ? tool['function'] : undefined;
  if (fn === undefined || typeof fn['name'] !== 'string') return undefined;
  const description = typeof fn['description'] === 'string' ? `// ${fn['description']}\n` : '';
  const params = fn['parameters'];
  const hasProps =
    isRecord(params) && isRecord(params['properties']) && Object.keys(params['properties']).length > 0;
  const signature = hasProps ? `(_: ${typeOf(params, 0)}) => any` : '() => any';
  return `${description}type ${fn['name']} = ${signature};`;
}

/** The TypeScript spelling of a JSON Schema, as Harmony declares tool parameters. */
function typeOf(schema: unknown, depth: number): string {
  if (!isRecord(schema) || depth > 8) return 'any';
  const union = schema['anyOf'] ?? schema['oneOf'];
  if (Array.isArray(union)) return union.map((s) => typeOf(s, depth + 1)).join(' | ');
  if (Array.isArray(schema['enum'])) return schema['enum'].map((v) => JSON.stringify(v)).join(' | ');
  if ('const' in schema) return JSON.stringify(schema['const']);
  const type = schema['type'];
  if (Array.isArray(type)) return type.map((t) => typeOf({ ...schema, type: t }, depth + 1)).join(' | ');
  switch (type) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return `${typeOf(schema['items'], depth + 1)}[]`;
    case 'object': {
      const props = isRecord(schema['properties']) ? schema['properties'] : {};
      const required = new Set(Array.isArray(schema['required']) ? schema['required'] : []);
      const lines = Object.entries(props).map(([name, prop]) => {
        const comment =
          isRecord(prop) && typeof prop['description'] === 'string' ? `// ${prop['description']}\n` : '';
        const fallback = isRecord(prop) && 'default' in prop ? ` // default: ${String(prop['default'])}` : '';
        return `${comment}${name}${required.has(name) ? '' : '?'}: ${typeOf(prop, depth + 1)},${fallback}`;
      });
      return lines.length === 0 ? 'object' : `{\n${lines.join('\n')}\n}`;
    }
    default:
      return 'any';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
