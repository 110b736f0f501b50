/**
 * Finds the first rule that matches a request and turns its reply into what the reply planner and
 * the API need: scripted text or a tool call, an error to answer with, and added latency.
 */
import type { ScriptedReply } from '../reply.js';
import { pythonJson } from '../python-json.js';
import type { Rule, ScriptedErrorType } from './rule-schema.js';
import { fillTemplate } from './rule-template.js';
import { RegexTimeoutError, compileSafeRegex, safeExec } from '../safe-regex.js';

/** What rules can look at, extracted from the request by the API. */
export interface RequestFacts {
  readonly model: string;
  readonly route: 'chat' | 'completions' | 'responses' | 'messages';
  /** The last user message (or the completions prompt). */
  readonly lastUser: string;
  /** The system (or developer) prompt, '' when none. */
  readonly system: string;
  readonly toolNames: readonly string[];
  readonly lastRole: string;
  /** The last tool message's content, '' when none. */
  readonly lastToolResult: string;
  /** A request header by lower-case name. */
  readonly header: (name: string) => string | undefined;
}

export interface RuleOutcome {
  /** Index and name of the rule that matched (for logs and tests). */
  readonly index: number;
  readonly name: string | undefined;
  readonly scripted?: ScriptedReply | undefined;
  readonly error?:
    | { readonly status: number; readonly type?: ScriptedErrorType | undefined; readonly message: string }
    | undefined;
  readonly latencyMs: number;
}

/** The first matching rule's outcome, or undefined when no rule matches. */
export function matchRules(rules: readonly Rule[], facts: RequestFacts): RuleOutcome | undefined {
  // Lower-cased once for all rules: the message may be megabytes, the rules many.
  const lower = lowerCased(facts);
  for (const [index, rule] of rules.entries()) {
    const groups = matches(rule, facts, lower);
    if (groups !== undefined) return outcome(rule, index, facts, groups);
  }
  return undefined;
}

/** The regex groups (empty without user_regex) when the rule matches, else undefined. */
function matches(
  rule: Rule,
  facts: RequestFacts,
  lower: { readonly lastUser: () => string; readonly system: () => string },
): (string | undefined)[] | undefined {
  const m = rule.match ?? {};
  if (m.model !== undefined && m.model !== facts.model) return undefined;
  if (m.route !== undefined && m.route !== facts.route) return undefined;
  if (m.user_contains !== undefined && !lower.lastUser().includes(m.user_contains.toLowerCase())) {
    return undefined;
  }
  if (m.system_contains !== undefined && !lower.system().includes(m.system_contains.toLowerCase())) {
    return undefined;
  }
  if (m.has_tools !== undefined && m.has_tools !== facts.toolNames.length > 0) return undefined;
  // A tool-call rule stands down after a tool result unless it asks for that turn, so a tool loop
  // driven by rules ends instead of calling the tool forever.
  if (m.last_role !== undefined && m.last_role !== facts.lastRole) return undefined;
  const scriptsCalls = rule.reply.tool_call !== undefined || rule.reply.tool_calls !== undefined;
  if (m.last_role === undefined && scriptsCalls && facts.lastRole === 'tool') {
    return undefined;
  }
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    if (facts.header(name.toLowerCase()) !== value) return undefined;
  }
  if (m.user_regex !== undefined) {
    // Bounded in time (safe-regex.ts): a pattern that still runs away counts as no match.
    let found: RegExpExecArray | null;
    try {
      found = safeExec(compileSafeRegex(m.user_regex, 'i'), facts.lastUser);
    } catch (err) {
      if (err instanceof RegexTimeoutError) return undefined;
      throw err;
    }
    if (found === null) return undefined;
    return Array.from(found, (g) => g);
  }
  return [];
}

/** The texts rules search case-insensitively, lower-cased on first use. */
function lowerCased(facts: RequestFacts) {
  let lastUser: string | undefined;
  let system: string | undefined;
  return {
    lastUser: () => (lastUser ??= facts.lastUser.toLowerCase()),
    system: () => (system ??= facts.system.toLowerCase()),
  };
}

function outcome(
  rule: Rule,
  index: number,
  facts: RequestFacts,
  groups: readonly (string | undefined)[],
): RuleOutcome {
  const r = rule.reply;
  const base = { index, name: rule.name, latencyMs: r.latency_ms ?? 0 };
  if (r.error !== undefined) {
    return {
      ...base,
      error: {
        status: r.error.status,
        type: r.error.type,
        message: r.error.message ?? `Scripted error from rule ${rule.name ?? index}.`,
      },
    };
  }
  if (r.content !== undefined) return { ...base, scripted: { kind: 'text', text: r.content } };
  if (r.chunks !== undefined) {
    return { ...base, scripted: { kind: 'text', text: r.chunks.join(''), chunks: r.chunks } };
  }
  const values = {
    lastUser: facts.lastUser,
    system: facts.system,
    model: facts.model,
    toolResult: facts.lastToolResult,
    tools: facts.toolNames,
    header: facts.header,
    match: groups,
  };
  if (r.template !== undefined) {
    return { ...base, scripted: { kind: 'text', text: fillTemplate(r.template, values) } };
  }
  const calls = r.tool_calls ?? (r.tool_call === undefined ? undefined : [r.tool_call]);
  if (calls !== undefined) {
    // String values in fixed arguments are templates too (`city: "{{match.1}}"`).
    const fill = (text: string) => fillTemplate(text, values);
    return {
      ...base,
      scripted: {
        kind: 'tool_calls',
        calls: calls.map((call) => ({
          name: call.name,
          arguments: call.arguments === undefined ? undefined : fillDeep(call.arguments, fill),
        })),
      },
    };
  }
  if (r.json !== undefined) return { ...base, scripted: { kind: 'text', text: pythonJson(r.json) } };
  return base;
}

function fillDeep(value: unknown, fill: (text: string) => string): unknown {
  if (typeof value === 'string') return fill(value);
  if (Array.isArray(value)) return value.map((item) => fillDeep(item, fill));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v, fill)]));
  }
  return value;
}
