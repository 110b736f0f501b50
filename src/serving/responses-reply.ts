/**
 * A Responses request → what the reply should be (content/reply.ts `ReplySpec`), as
 * reply-spec.ts resolves a chat request's: the first matching scripted rule (route `responses`),
 * the function tools and `tool_choice`, and the structured-output constraint of `text.format`
 * (or vLLM's `structured_outputs`). Bad constraints are 400s naming the field.
 */
import type { ChatMessage } from '../content/chat-template.js';
import type { GuidedSpec } from '../content/guided.js';
import type { RequestFacts } from '../content/rules/rule-match.js';
import type { RuleStore } from '../content/rules/rule-store.js';
import type { ToolDef } from '../content/tool-calls.js';
import type { ResponsesRequest } from '../protocol/responses.js';
import { contentText } from '../util/content-text.js';
import { ApiError } from './errors.js';
import { applyRule, jsonSpec, resolveGuided, resolveToolChoice, type ResolvedReply } from './reply-spec.js';

export function resolveResponsesReply(
  req: ResponsesRequest,
  messages: readonly ChatMessage[],
  rules: RuleStore | undefined,
  header: (name: string) => string | undefined,
): ResolvedReply {
  const text = (m: ChatMessage | undefined) => contentText(m?.content);
  const tools: ToolDef[] = (req.tools ?? []).map((t) => ({
    name: t.name,
    description: t.description,
    parameters: t.parameters,
  }));
  const lastRole = messages[messages.length - 1]?.role ?? 'user';
  const facts: RequestFacts = {
    model: req.model,
    route: 'responses',
    lastUser: text(messages.findLast((m) => m.role === 'user')),
    system: text(messages.find((m) => m.role === 'system' || m.role === 'developer')),
    toolNames: tools.map((t) => t.name),
    lastRole,
    lastToolResult: text(messages.findLast((m) => m.role === 'tool')),
    header,
  };
  const rule = applyRule(rules, facts);
  const choice = req.tool_choice ?? undefined;
  return {
    rule,
    latencyMs: rule?.latencyMs ?? 0,
    spec: {
      scripted: rule?.scripted,
      tools,
      toolChoice: resolveToolChoice(typeof choice === 'object' ? { name: choice.name } : choice, tools),
      guided: guidedOf(req),
      lastRole,
      lastUserText: facts.lastUser,
    },
  };
}

/**
 * `text.format` as vLLM reads it (ResponsesRequest.to_sampling_params): `json_schema` constrains
 * the output to its schema, and may not come with `structured_outputs`. vLLM leaves `json_object`
 * unconstrained; here it gives a JSON object, as OpenAI's API does.
 */
function guidedOf(req: ResponsesRequest): GuidedSpec | undefined {
  const format = req.text?.format ?? undefined;
  const structured = req.structured_outputs ?? undefined;
  if (format !== undefined && format.type !== 'text' && structured !== undefined) {
    throw new ApiError(400, 'Cannot specify both structured_outputs and text.format', 'structured_outputs');
  }
  if (structured !== undefined) return resolveGuided({ structured_outputs: structured });
  if (format?.type === 'json_schema') return jsonSpec('text.format.schema', format['schema']);
  if (format?.type === 'json_object') return { kind: 'json_object' };
  return undefined;
}
