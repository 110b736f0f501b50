/**
 * The rules file's shape (NIMSIM_RULES_FILE, PATCH /admin/config `rules`): an ordered list of
 * rules, each a `match` (every condition given must hold) and a `reply` (one action, optionally
 * with added latency). The first matching rule decides the reply.
 */
import { z } from 'zod';
import { compileSafeRegex } from '../safe-regex.js';
import { templateProblem } from './rule-template.js';

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

// Rules run their patterns on client text: refuse the ones that can backtrack catastrophically.
const regexString = z.string().superRefine((pattern, ctx) => {
  try {
    compileSafeRegex(pattern, 'i');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regex: ${(err as Error).message}` });
  }
});

export const RuleMatchSchema = z.strictObject({
  /** The request's `model`, exactly. */
  model: z.string().min(1).optional(),
  /**
   * `chat` (/v1/chat/completions), `completions` (/v1/completions), `responses` (/v1/responses) or
   * `messages` (/v1/messages).
   */
  route: z.enum(['chat', 'completions', 'responses', 'messages']).optional(),
  /** Substring of the last user message (or the completions prompt), case-insensitive. */
  user_contains: z.string().min(1).optional(),
  /** Regex searched in the last user message, case-insensitive; groups feed `{{match.N}}`. */
  user_regex: regexString.optional(),
  /** Substring of the system (or developer) prompt, case-insensitive. */
  system_contains: z.string().min(1).optional(),
  /** The request offers tools (true) or not (false). */
  has_tools: z.boolean().optional(),
  /** Role of the last message, e.g. `tool` for the turn after a tool result. */
  last_role: z.enum(ROLES).optional(),
  /** Request headers that must be present with exactly these values (names case-insensitive). */
  headers: z.record(z.string().min(1), z.string()).optional(),
});

const ERROR_TYPES = [
  'BadRequestError',
  'AuthenticationError',
  'NotFoundError',
  'RateLimitError',
  'InternalServerError',
  'ServiceUnavailableError',
] as const;

const template = z.string().superRefine((text, ctx) => {
  const problem = templateProblem(text);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const ACTIONS = ['content', 'template', 'chunks', 'tool_call', 'tool_calls', 'json', 'error'] as const;

/** One scripted call: string values in `arguments` are templates. */
const ScriptedCallSchema = z.strictObject({
  name: z.string().min(1),
  arguments: z
    .record(z.string(), z.unknown())
    .superRefine((args, ctx) => {
      const problem = stringsOf(args)
        .map(templateProblem)
        .find((p) => p !== undefined);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
});

export const RuleReplySchema = z
  .strictObject({
    /** Fixed text. */
    content: z.string().optional(),
    /** Text with `{{placeholders}}` filled from the request. */
    template: template.optional(),
    /** Text streamed in exactly these pieces. */
    chunks: z.array(z.string()).min(1).optional(),
    /** A tool call; arguments absent = generated from the request's tool schema. */
    tool_call: ScriptedCallSchema.optional(),
    /** Several tool calls in one turn (parallel calls), in order; each as `tool_call`. */
    tool_calls: z.array(ScriptedCallSchema).min(1).max(64).optional(),
    /** A structured object, sent as its JSON text. */
    json: z.unknown().optional(),
    /** An error response instead of a reply. */
    error: z
      .strictObject({
        status: z.number().int().min(400).max(599),
        type: z.enum(ERROR_TYPES).optional(),
        message: z.string().min(1).optional(),
      })
      .optional(),
    /** Wall-clock milliseconds added before the request is served (not scaled by the time scale). */
    latency_ms: z.number().int().min(0).max(600_000).optional(),
  })
  .superRefine((reply, ctx) => {
    const given = ACTIONS.filter((a) => reply[a] !== undefined);
    if (given.length > 1) {
      ctx.addIssue({ code: 'custom', message: `reply has more than one action: ${given.join(', ')}` });
    }
    if (given.length === 0 && reply.latency_ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `reply needs one of ${ACTIONS.join(', ')} (or latency_ms alone)`,
      });
    }
  });

export const RuleSchema = z.strictObject({
  name: z.string().min(1).optional(),
  match: RuleMatchSchema.optional(),
  reply: RuleReplySchema,
});

/** A file is a list of rules, or an object with a `rules` list. */
export const RulesDocumentSchema = z.union([
  z.array(RuleSchema),
  z.strictObject({ rules: z.array(RuleSchema) }),
]);

export type Rule = z.infer<typeof RuleSchema>;
export type RuleMatch = z.infer<typeof RuleMatchSchema>;
export type RuleReply = z.infer<typeof RuleReplySchema>;
export type ScriptedErrorType = (typeof ERROR_TYPES)[number];

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(stringsOf);
  return [];
}
