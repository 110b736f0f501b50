/**
 * Wire request → what the reply should be (content/reply.ts `ReplySpec`): the first matching
 * scripted rule, the tools and tool_choice, and the guided-decoding constraint, from whichever of
 * the spellings NIM and vLLM accept — `response_format`, vLLM's `structured_outputs`, top-level
 * `guided_*` and NIM 1.x's `nvext.guided_*`. Bad constraints are 400s naming the field.
 */
import { guidedRegex, type GuidedSpec } from '../content/guided.js';
import { UnsupportedRegexError } from '../content/guided-regex.js';
import { JsonSchemaError, validateSchema } from '../content/json-schema.js';
import type { ReplySpec } from '../content/reply.js';
import { matchRules, type RequestFacts, type RuleOutcome } from '../content/rules/rule-match.js';
import type { RuleStore } from '../content/rules/rule-store.js';
import type { ToolChoice, ToolDef } from '../content/tool-calls.js';
import type { ChatCompletionRequest } from '../protocol/chat.js';
import type { CompletionRequest } from '../protocol/completions.js';
import { contentText } from '../util/content-text.js';
import { ApiError } from './errors.js';

/** The resolved reply, plus what the route does before and instead of generating. */
export interface ResolvedReply {
  readonly spec: ReplySpec;
  /** Wall-clock delay a rule adds before the request is served. */
  readonly latencyMs: number;
  /** The rule that matched, if any. */
  readonly rule: RuleOutcome | undefined;
}

type Header = (name: string) => string | undefined;

/**
 * Chat: rules, tools and guided decoding. Throws ApiError for a rule's scripted error too.
 * `route` is what rules see: /v1/messages requests are served as chat (messages-request.ts).
 */
export function resolveChatReply(
  req: ChatCompletionRequest,
  rules: RuleStore | undefined,
  header: Header,
  route: 'chat' | 'messages' = 'chat',
): ResolvedReply {
  const messages = req.messages;
  const text = (m: (typeof messages)[number] | undefined) => contentText(m?.content);
  const lastUser = messages.findLast((m) => m.role === 'user');
  const system = messages.find((m) => m.role === 'system' || m.role === 'developer');
  const lastTool = messages.findLast((m) => m.role === 'tool');
  const lastRole = messages[messages.length - 1]?.role ?? 'user';
  const tools: ToolDef[] = (req.tools ?? []).map((t) => ({
    name: t.function.name,
    description: t.function.description,
    parameters: t.function.parameters,
  }));
  const facts: RequestFacts = {
    model: req.model,
    route,
    lastUser: text(lastUser),
    system: text(system),
    toolNames: tools.map((t) => t.name),
    lastRole,
    lastToolResult: text(lastTool),
    header,
  };
  const rule = applyRule(rules, facts);
  return {
    rule,
    latencyMs: rule?.latencyMs ?? 0,
    spec: {
      scripted: rule?.scripted,
      tools,
      toolChoice: resolveToolChoice(toWireToolChoice(req.tool_choice), tools),
      guided: resolveGuided(req),
      lastRole,
      lastUserText: facts.lastUser,
    },
  };
}

/** Completions: rules (route `completions`, the prompt as the user message) and guided decoding. */
export function resolveCompletionReply(
  req: CompletionRequest,
  rules: RuleStore | undefined,
  header: Header,
): ResolvedReply {
  const prompt =
    typeof req.prompt === 'string'
      ? req.prompt
      : req.prompt.every((p) => typeof p === 'string')
        ? req.prompt.join('\n')
        : '';
  const facts: RequestFacts = {
    model: req.model,
    route: 'completions',
    lastUser: prompt,
    system: '',
    toolNames: [],
    lastRole: 'user',
    lastToolResult: '',
    header,
  };
  const rule = applyRule(rules, facts);
  const scripted = rule?.scripted?.kind === 'text' ? rule.scripted : undefined;
  return { rule, latencyMs: rule?.latencyMs ?? 0, spec: { scripted, guided: resolveGuided(req) } };
}

/** The first matching rule; a rule's scripted error is thrown as the ApiError it names. */
export function applyRule(rules: RuleStore | undefined, facts: RequestFacts): RuleOutcome | undefined {
  const rule = rules === undefined ? undefined : matchRules(rules.rules(), facts);
  if (rule?.error !== undefined) {
    throw new ApiError(rule.error.status, rule.error.message, null, {}, rule.error.type);
  }
  return rule;
}

/** A `tool_choice` as both APIs spell it, the named form reduced to its name. */
export type WireToolChoice = 'none' | 'auto' | 'required' | { readonly name: string } | undefined;

function toWireToolChoice(choice: ChatCompletionRequest['tool_choice']): WireToolChoice {
  if (choice == null || typeof choice === 'string') return choice ?? undefined;
  return { name: choice.function.name };
}

/**
 * vLLM's checks (protocol.py `check_tool_usage`): a forced choice needs tools, a named tool must be
 * among them; no tool_choice with tools means `auto`. NIM's model containers enable auto tool
 * choice, so `auto` is accepted (plain vLLM would answer 400 without --enable-auto-tool-choice).
 */
export function resolveToolChoice(choice: WireToolChoice, tools: readonly ToolDef[]): ToolChoice | undefined {
  if (choice === undefined) return tools.length > 0 ? 'auto' : undefined;
  if (choice === 'none') return 'none';
  if (tools.length === 0) {
    throw new ApiError(400, 'When using `tool_choice`, `tools` must be set.', 'tool_choice');
  }
  if (typeof choice === 'string') return choice;
  const name = choice.name;
  if (!tools.some((t) => t.name === name)) {
    throw new ApiError(400, `Tool '${name}' has not been passed in \`tools\`.`, 'tool_choice');
  }
  return { name };
}

type GuidedFields = Pick<
  ChatCompletionRequest,
  'structured_outputs' | 'guided_json' | 'guided_regex' | 'guided_choice' | 'guided_grammar' | 'nvext'
> & { response_format?: ChatCompletionRequest['response_format'] };

/** The one guided-decoding constraint of the request, or undefined. */
export function resolveGuided(req: GuidedFields): GuidedSpec | undefined {
  // Most requests ask for no constraint: answer that before building the search below.
  if (
    req.structured_outputs == null &&
    req.nvext == null &&
    req.guided_json == null &&
    req.guided_regex == null &&
    req.guided_choice == null &&
    req.guided_grammar == null &&
    req.response_format == null
  ) {
    return undefined;
  }
  const so = req.structured_outputs ?? undefined;
  const nvext = req.nvext ?? undefined;
  const found: { field: string; spec: () => GuidedSpec }[] = [];
  const json = (field: string, raw: unknown) => found.push({ field, spec: () => jsonSpec(field, raw) });
  const regex = (field: string, raw: unknown) => found.push({ field, spec: () => regexSpec(field, raw) });
  const choice = (field: string, raw: unknown) => found.push({ field, spec: () => choiceSpec(field, raw) });
  const grammar = (field: string) =>
    found.push({
      field,
      spec: () => {
        throw new ApiError(400, `${field}: grammar-guided decoding is not supported by nimsim.`, field);
      },
    });
  if (so) {
    if (so['json'] != null) json('structured_outputs.json', so['json']);
    if (so['regex'] != null) regex('structured_outputs.regex', so['regex']);
    if (so['choice'] != null) choice('structured_outputs.choice', so['choice']);
    if (so['grammar'] != null) grammar('structured_outputs.grammar');
    if (so['json_object'] === true)
      found.push({ field: 'structured_outputs.json_object', spec: () => ({ kind: 'json_object' }) });
  }
  for (const [prefix, src] of [
    ['', req],
    ['nvext.', nvext],
  ] as const) {
    if (!src) continue;
    if (src.guided_json != null) json(`${prefix}guided_json`, src.guided_json);
    if (src.guided_regex != null) regex(`${prefix}guided_regex`, src.guided_regex);
    if (src.guided_choice != null) choice(`${prefix}guided_choice`, src.guided_choice);
    if (src.guided_grammar != null) grammar(`${prefix}guided_grammar`);
  }
  if (found.length > 1) {
    throw new ApiError(
      400,
      `You can only use one kind of guided decoding, got ${found.map((f) => f.field).join(', ')}.`,
      found[1]!.field,
    );
  }
  if (found[0]) return found[0].spec();
  // vLLM turns response_format into the same constraint when no explicit one is given.
  const format = req.response_format ?? undefined;
  if (format?.type === 'json_object') return { kind: 'json_object' };
  if (format?.type === 'json_schema') {
    const schema = format.json_schema.schema ?? undefined;
    return schema === undefined
      ? { kind: 'json_object' }
      : jsonSpec('response_format.json_schema.schema', schema);
  }
  return undefined;
}

/** A JSON Schema constraint from `field`, checked now: a bad or unsatisfiable schema is a 400 naming it. */
export function jsonSpec(field: string, raw: unknown): GuidedSpec {
  let schema = raw;
  if (typeof raw === 'string') {
    try {
      schema = JSON.parse(raw) as unknown;
    } catch {
      throw new ApiError(400, `${field} is not valid JSON.`, field);
    }
  }
  if (
    typeof schema !== 'boolean' &&
    (typeof schema !== 'object' || schema === null || Array.isArray(schema))
  ) {
    throw new ApiError(400, `${field} must be a JSON Schema object.`, field);
  }
  try {
    // Fails early on schemas beyond the bounds or that nothing satisfies, before the request is queued.
    validateSchema(schema);
  } catch (err) {
    if (err instanceof JsonSchemaError || err instanceof UnsupportedRegexError) {
      throw new ApiError(400, `${field}: ${err.message}`, field);
    }
    throw err;
  }
  return { kind: 'json', schema, field };
}

function regexSpec(field: string, raw: unknown): GuidedSpec {
  if (typeof raw !== 'string' || raw === '')
    throw new ApiError(400, `${field} must be a non-empty string.`, field);
  try {
    return guidedRegex(raw);
  } catch (err) {
    if (err instanceof UnsupportedRegexError) throw new ApiError(400, `${field}: ${err.message}`, field);
    throw err;
  }
}

function choiceSpec(field: string, raw: unknown): GuidedSpec {
  if (!Array.isArray(raw) || raw.length === 0 || !raw.every((c) => typeof c === 'string')) {
    throw new ApiError(400, `${field} must be a non-empty list of strings.`, field);
  }
  return { kind: 'choice', choices: raw as string[] };
}
