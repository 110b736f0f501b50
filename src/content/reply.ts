/**
 * Decides what one choice says: a scripted reply (from a rule), a tool call, guided (structured)
 * output, or seeded prose — and plans it as tokens like any other output, so usage, timing, the KV
 * cache and streaming stay real. A tool call's plan also says where its name and arguments lie,
 * so the API can stream argument deltas and parse `tool_calls` as vLLM does.
 */
import { pythonJson } from './python-json.js';
import { guidedText, type GuidedSpec } from './guided.js';
import { JsonSchemaError, schemaBudget, type SchemaJson } from './json-schema.js';
import { planOutputSteps, runToEnd, type OutputPlan, type PlanOutputOptions } from './output-plan.js';
import type { ReasoningPart } from './reasoning.js';
import { planToolCallsText, type ToolCallPlan, type ToolCallStyle } from './tool-call-text.js';
import { chooseToolCalls, generateArguments, type ToolChoice, type ToolDef } from './tool-calls.js';

/** A reply fixed by a rule (after templating). */
export type ScriptedReply =
  | {
      readonly kind: 'text';
      readonly text: string;
      /** Stream exactly these pieces (their concatenation is the text). */
      readonly chunks?: readonly string[] | undefined;
    }
  | {
      readonly kind: 'tool_calls';
      /** The calls, in order (a rule's `tool_call` is a list of one). */
      readonly calls: readonly ScriptedCall[];
    };

/** A scripted call: the tool's name and fixed arguments, absent = generated from its schema. */
export interface ScriptedCall {
  readonly name: string;
  readonly arguments?: unknown;
}

/** What the request asks for, resolved once; each choice then plans with its own seed. */
export interface ReplySpec {
  readonly scripted?: ScriptedReply | undefined;
  readonly tools?: readonly ToolDef[] | undefined;
  /** Default: `auto` when tools are given (OpenAI's and vLLM's default). */
  readonly toolChoice?: ToolChoice | undefined;
  readonly guided?: GuidedSpec | undefined;
  readonly lastRole?: string | undefined;
  readonly lastUserText?: string | undefined;
  /**
   * Most calls the model makes in one turn: 1 (the default) for a model without parallel calls,
   * MAX_PARALLEL_CALLS (tool-calls.ts) for one with them (catalog `parallelToolCalls`).
   */
  readonly maxToolCalls?: number | undefined;
}

export interface ReplyPlan extends OutputPlan {
  /**
   * Set when the output is one or more complete tool calls, in order (a reply cut short stays
   * plain text, as in vLLM).
   */
  readonly toolCalls?: readonly ToolCallPlan[] | undefined;
  /**
   * A reasoning model's plan (reasoning.ts): its first `tokens` tokens are the reasoning, whose
   * pieces stream as reasoning deltas; `text`, `finishReason` and `toolCalls` are the answer's.
   */
  readonly reasoning?: ReasoningPart | undefined;
}

/**
 * Plans one choice's reply; `base` carries the seed, limits and stop rules. JSON (guided or tool
 * arguments) is generated within a budget tied to `base.maxTokens` (json-schema.ts).
 */
export function planReply(spec: ReplySpec, base: PlanOutputOptions): ReplyPlan {
  return runToEnd(planReplySteps(spec, base));
}

/** `planReply` in slices (output-plan.ts `planOutputSteps`): long outputs pause between them. */
export function* planReplySteps(
  spec: ReplySpec,
  base: PlanOutputOptions,
): Generator<number, ReplyPlan, void> {
  const budget = schemaBudget(base.maxTokens);
  const scripted = spec.scripted;
  if (scripted?.kind === 'text') return yield* planTextSteps(base, scripted.text, scripted.chunks);
  if (scripted?.kind === 'tool_calls') {
    const entities = new Map<string, number>();
    const calls = scripted.calls.map((call, index) => {
      const tool = spec.tools?.find((t) => t.name === call.name);
      // A tool scripted twice without arguments is about the message's first place, then its second…
      const entity = entities.get(call.name) ?? 0;
      entities.set(call.name, entity + 1);
      const args =
        call.arguments === undefined
          ? toolArguments(spec, tool, base.seed, budget, { entity, call: index })
          : { text: pythonJson(call.arguments), truncated: false };
      return { name: call.name, args };
    });
    return yield* planToolCalls(base, calls, 'auto');
  }
  const tools = spec.tools ?? [];
  const choice = spec.toolChoice ?? (tools.length > 0 ? 'auto' : 'none');
  const chosen = chooseToolCalls(tools, choice, {
    lastRole: spec.lastRole ?? 'user',
    lastUserText: spec.lastUserText ?? '',
    seed: base.seed,
    maxCalls: spec.maxToolCalls ?? 1,
  });
  if (chosen.length > 0) {
    const style: ToolCallStyle =
      typeof choice === 'object' ? 'named' : choice === 'required' ? 'required' : 'auto';
    const calls = [];
    for (const [index, { tool, entity }] of chosen.entries()) {
      const args = toolArguments(spec, tool, base.seed, budget, { entity, call: index });
      calls.push({ name: tool.name, args });
      // Arguments cut short by the budget end the text: no later call is written.
      if (args.truncated) break;
    }
    return yield* planToolCalls(base, calls, style);
  }
  if (spec.guided !== undefined) {
    const guided = guidedText(spec.guided, base.seed, budget);
    return yield* planTextSteps(base, guided.text, undefined, guided.truncated);
  }
  return yield* planOutputSteps(base);
}

/** A tool's arguments; a schema error names the tool's `parameters` field. */
function toolArguments(
  spec: ReplySpec,
  tool: ToolDef | undefined,
  seed: number,
  budget: number,
  at: { readonly entity: number; readonly call: number },
): SchemaJson {
  try {
    return generateArguments(tool, seed, budget, { message: spec.lastUserText ?? '', ...at });
  } catch (err) {
    if (err instanceof JsonSchemaError && tool !== undefined && err.field === undefined) {
      const field = `tools.${spec.tools?.indexOf(tool) ?? -1}.function.parameters`;
      throw new JsonSchemaError(`${field}: ${err.message}`, field);
    }
    throw err;
  }
}

/**
 * Plans a fixed text: its tokens then EOS, through the same stopping rules as generated text
 * (max_tokens truncates, stop strings cut). With `chunks`, each chunk is tokenised on its own and
 * the streamed pieces are regrouped so a client receives exactly those chunks. Only as much of
 * the text as max_tokens can show is tokenised. A `truncated` text (a JSON generation that ran out
 * of budget) ends with finish reason `length` where it ends, as a model's would at max_tokens.
 */
export function planText(
  base: PlanOutputOptions,
  text: string,
  chunks?: readonly string[],
  truncated = false,
): OutputPlan {
  return runToEnd(planTextSteps(base, text, chunks, truncated));
}

function* planTextSteps(
  base: PlanOutputOptions,
  text: string,
  chunks?: readonly string[],
  truncated = false,
): Generator<number, OutputPlan, void> {
  const { tokenizer } = base;
  let ids: number[];
  if (chunks) {
    ids = chunks.flatMap((chunk) => tokenizer.encode(chunk));
  } else {
    ids = [];
    tokenizer.encodeInto(text, ids, Math.max(1, base.maxTokens));
  }
  const maxTokens = truncated ? Math.min(base.maxTokens, ids.length) : base.maxTokens;
  const plan = yield* planOutputSteps({ ...base, maxTokens, mode: 'echo', echoTokenIds: ids });
  if (!chunks) return plan;
  return { ...plan, pieces: regroup(plan.pieces, chunkEnds(chunks)) };
}

function* planToolCalls(
  base: PlanOutputOptions,
  calls: readonly { readonly name: string; readonly args: SchemaJson }[],
  style: ToolCallStyle,
): Generator<number, ReplyPlan, void> {
  const planned = planToolCallsText(
    calls.map((c) => ({ name: c.name, argsJson: c.args.text })),
    style,
    base.seed,
  );
  // Arguments cut short by the budget: the text stops where they stop (no closing brackets).
  const cut = calls.findIndex((c) => c.args.truncated);
  const truncated = cut >= 0;
  const text = truncated
    ? planned.text.slice(0, planned.calls[cut]!.argsStart + calls[cut]!.args.text.length)
    : planned.text;
  const plan = yield* planTextSteps(base, text, undefined, truncated);
  // Every call complete, or none: a reply cut by max_tokens or a stop string is text.
  const complete =
    !truncated && plan.finishReason === 'stop' && plan.stopReason === undefined && plan.text === text;
  return complete ? { ...plan, toolCalls: planned.calls } : plan;
}

function chunkEnds(chunks: readonly string[]): number[] {
  const ends: number[] = [];
  let at = 0;
  for (const chunk of chunks) {
    at += chunk.length;
    if (chunk.length > 0) ends.push(at);
  }
  return ends;
}

/**
 * Re-cuts per-token text so text is released only at chunk ends: a token that completes a chunk
 * carries it, the others carry ''. The last token releases whatever remains.
 */
function regroup(pieces: readonly string[], ends: readonly number[]): string[] {
  const text = pieces.join('');
  let produced = 0;
  let emitted = 0;
  return pieces.map((piece, index) => {
    produced += piece.length;
    let upTo = emitted;
    for (const end of ends) if (end <= produced && end > upTo) upTo = end;
    if (index === pieces.length - 1) upTo = text.length;
    const out = text.slice(emitted, upTo);
    emitted = upTo;
    return out;
  });
}
