/**
 * Tool calls as the model makes them: which tools (tool_choice, relevance to the last user
 * message), how many in one turn, and their arguments (seeded, grounded in the conversation where
 * it can, valid against each tool's JSON Schema). The text the model writes for them and its
 * streamed deltas are tool-call-text.ts's; the API parses them back as vLLM's `llama3_json` tool
 * parser does. finish_reason is `tool_calls` for `auto` and `required`, `stop` for a named call
 * (vLLM follows OpenAI there).
 *
 * Several calls in one turn (docs/api.md#tool-calls): a model that makes parallel calls (catalog
 * `parallelToolCalls`) calls each offered tool the message is about, and a tool with a place
 * parameter once per place the message names, at most MAX_PARALLEL_CALLS; a model that does not
 * (Llama 3.1 and 3.3: NIM's function-calling support table lists "Parallel Tool Calls Supported:
 * No") makes one.
 */
import { pythonJson } from './python-json.js';
import { generateJson, type SchemaJson } from './json-schema.js';
import { defineOwn } from './json-schema-shape.js';
import { conversationFacts } from './conversation-facts.js';
import { groundArguments, placeParameter } from './tool-grounding.js';
import { createRandom, hashSeed } from '../util/random.js';

export type { ToolCallPlan, ToolCallStyle } from './tool-call-text.js';

/** A tool offered in the request (`tools[].function`). */
export interface ToolDef {
  readonly name: string;
  readonly description?: string | null | undefined;
  readonly parameters?: unknown;
}

/** `tool_choice`: `none`, `auto`, `required` or a named function. */
export type ToolChoice = 'none' | 'auto' | 'required' | { readonly name: string };

/** Most calls one turn makes when the model makes parallel calls. */
export const MAX_PARALLEL_CALLS = 4;

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
  return chooseToolCalls(tools, choice, { ...ctx, maxCalls: 1 })[0]?.tool;
}

/** One call to make: the tool, and which of the places the message names it is about. */
export interface ChosenCall {
  readonly tool: ToolDef;
  /** 0 for the first place named (or when the tool has no place parameter), 1 for the second… */
  readonly entity: number;
}

/**
 * The calls of one turn, in order; empty for a plain answer. The first is `chooseTool`'s. With
 * `maxCalls` above 1: the other offered tools the message is about follow (by relevance, ties by
 * the seed; a word every offered tool shares counts for none of them), and a tool with a place
 * parameter is called once per place the message lists together ("Paris, London and Tokyo"; a
 * route "from Paris to London" is one call) — up to `maxCalls` calls. A named choice makes
 * exactly one call.
 */
export function chooseToolCalls(
  tools: readonly ToolDef[],
  choice: ToolChoice,
  ctx: ToolChoiceContext & { readonly maxCalls: number },
): ChosenCall[] {
  if (tools.length === 0 || choice === 'none') return [];
  if (typeof choice === 'object') {
    const tool = tools.find((t) => t.name === choice.name);
    return tool === undefined ? [] : [{ tool, entity: 0 }];
  }
  if (choice === 'auto' && (ctx.lastRole === 'tool' || ctx.lastRole === 'ipython')) return [];
  const scores = tools.map((tool) => toolRelevance(tool, ctx.lastUserText));
  const best = Math.max(...scores);
  const rng = createRandom(hashSeed(ctx.seed, 'tool-choice'));
  let first: number;
  if (best <= 0) {
    if (choice !== 'required') return [];
    first = rng.nextInt(tools.length);
  } else {
    const top = tools.flatMap((_, i) => (scores[i] === best ? [i] : []));
    first = top[rng.nextInt(top.length)]!;
  }
  const maxCalls = Math.max(1, Math.floor(ctx.maxCalls));
  if (maxCalls === 1) return [{ tool: tools[first]!, entity: 0 }];
  const order = [first, ...otherRelevantTools(tools, first, ctx.lastUserText, ctx.seed)];
  const calls: ChosenCall[] = [];
  // Only places listed together ask for one call each: "from Paris to London" is one route.
  const places = conversationFacts(ctx.lastUserText).placeList.length;
  for (const i of order) {
    const tool = tools[i]!;
    const times = placeParameter(tool.parameters) === undefined ? 1 : Math.max(1, places);
    for (let entity = 0; entity < times && calls.length < maxCalls; entity++) calls.push({ tool, entity });
  }
  return calls;
}

/**
 * Indexes of the tools other than `first` that the message is about, most relevant first (ties in
 * a seeded order). Only words that not every offered tool has count here: "current" in a message
 * does not call every tool described as getting something current.
 */
function otherRelevantTools(
  tools: readonly ToolDef[],
  first: number,
  message: string,
  seed: number,
): number[] {
  if (tools.length < 2) return [];
  const asked = messageWords(message);
  const toolWords = tools.map((t) => words(`${t.name} ${t.description ?? ''}`));
  const shared = new Set([...toolWords[0]!].filter((w) => toolWords.every((set) => set.has(w))));
  const rng = createRandom(hashSeed(seed, 'tool-order'));
  const scored: { index: number; score: number; tie: number }[] = [];
  toolWords.forEach((set, index) => {
    if (index === first) return;
    let score = 0;
    for (const word of set) if (asked.has(word) && !shared.has(word)) score++;
    if (score > 0) scored.push({ index, score, tie: rng.nextFloat() });
  });
  scored.sort((a, b) => b.score - a.score || a.tie - b.tie);
  return scored.map((s) => s.index);
}

/**
 * Seeded arguments valid against the tool's `parameters` schema (`{}` when it has none), as JSON
 * text, generated within `budgetChars` (json-schema.ts `schemaBudget`); a schema whose smallest
 * value is longer than that is a JsonSchemaError. With `grounding`, top-level parameters the
 * conversation fills (tool-grounding.ts) take those values; `call` > 0 seeds a turn's later calls
 * apart from its first.
 */
export function generateArguments(
  tool: ToolDef | undefined,
  seed: number,
  budgetChars: number,
  grounding?: { readonly message: string; readonly entity: number; readonly call: number },
): SchemaJson {
  const schema = tool?.parameters;
  if (schema === undefined || schema === null) return { text: '{}', truncated: false };
  const call = grounding?.call ?? 0;
  const argsSeed = call === 0 ? hashSeed(seed, 'tool-arguments') : hashSeed(seed, 'tool-arguments', call);
  const generated = generateJson(schema, argsSeed, budgetChars, { refuseOversized: true });
  if (grounding === undefined || generated.truncated) return generated;
  const grounded = groundArguments(schema, conversationFacts(grounding.message), grounding.entity);
  const text = withGrounded(generated.text, schema, grounded);
  return text.length <= budgetChars ? { text, truncated: false } : generated;
}

/**
 * The generated arguments with the grounded values in place (added where the generator left an
 * optional parameter out, within maxProperties), keys in the schema's order. Unchanged text when
 * nothing is grounded, so ungrounded calls keep the generator's spelling.
 */
function withGrounded(text: string, schema: unknown, grounded: Readonly<Record<string, unknown>>): string {
  const names = Object.keys(grounded);
  if (names.length === 0) return text;
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return text;
  const args = value as Record<string, unknown>;
  const s = schema as { properties?: Record<string, unknown>; maxProperties?: unknown };
  let count = Object.keys(args).length;
  let changed = false;
  for (const name of names) {
    if (Object.hasOwn(args, name)) {
      if (args[name] === grounded[name]) continue;
    } else {
      if (typeof s.maxProperties === 'number' && count >= s.maxProperties) continue;
      count++;
    }
    defineOwn(args, name, grounded[name]);
    changed = true;
  }
  if (!changed) return text;
  const ordered: Record<string, unknown> = {};
  // defineOwn: a parameter may be called `__proto__`.
  for (const name of Object.keys(s.properties ?? {})) {
    if (Object.hasOwn(args, name)) defineOwn(ordered, name, args[name]);
  }
  for (const [name, v] of Object.entries(args))
    if (!Object.hasOwn(ordered, name)) defineOwn(ordered, name, v);
  return pythonJson(ordered);
}
