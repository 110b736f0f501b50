/**
 * Reads a rules document (YAML, or JSON — which YAML parses too) and validates it, reporting the
 * first problem with its line: `rules.yaml:12: rules.1.reply: reply has more than one action`.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { ZodError } from 'zod';
import { RulesDocumentSchema, type Rule } from './rule-schema.js';

/** The rules document is unreadable or invalid; the message names the file, line and problem. */
export class RulesFileError extends Error {
  override readonly name = 'RulesFileError';
}

/** Parses and validates rules text; `label` names the source in error messages. */
export function parseRules(text: string, label: string): Rule[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    throw new RulesFileError(`${label}:${line}: ${yamlError.message.split('\n')[0]}`);
  }
  const data: unknown = doc.toJS();
  return validateRules(data, label, (path) => {
    // The deepest node that exists on the issue's path gives the line.
    for (let depth = path.length; depth >= 0; depth--) {
      const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  });
}

/** Validates already-parsed rules (e.g. a PATCH body); `lineOf` maps an issue path to a line. */
export function validateRules(
  data: unknown,
  label: string,
  lineOf: (path: readonly (string | number)[]) => number | undefined = () => undefined,
): Rule[] {
  if (data === null || data === undefined) return [];
  const parsed = RulesDocumentSchema.safeParse(data);
  if (parsed.success) return Array.isArray(parsed.data) ? parsed.data : parsed.data.rules;
  throw new RulesFileError(describeIssue(parsed.error, label, lineOf));
}

function describeIssue(
  error: ZodError,
  label: string,
  lineOf: (path: readonly (string | number)[]) => number | undefined,
): string {
  // A union reports "invalid input" at the root; its branch errors say what is really wrong.
  let issue = error.issues[0];
  while (issue?.code === 'invalid_union') {
    const branches = issue.errors;
    const best = branches.reduce((a, b) => (deepest(b) > deepest(a) ? b : a), branches[0] ?? []);
    issue = best[0] === undefined ? issue : { ...best[0], path: [...issue.path, ...best[0].path] };
    if (issue.code !== 'invalid_union' || best[0] === undefined) break;
  }
  const path = (issue?.path ?? []).filter((p): p is string | number => typeof p !== 'symbol');
  const keys = issue?.code === 'unrecognized_keys' ? issue.keys : [];
  const line = lineOf(keys.length > 0 ? [...path, keys[0]!] : path);
  const where = path.length > 0 ? `${path.join('.')}: ` : '';
  return `${label}${line === undefined ? '' : `:${line}`}: ${where}${issue?.message ?? 'invalid rules'}`;
}

function deepest(issues: readonly { path: readonly PropertyKey[] }[]): number {
  return issues.reduce((max, i) => Math.max(max, i.path.length), -1);
}

/** Reads and validates a rules file; errors carry the file name and line. */
export function loadRulesFile(path: string): Rule[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RulesFileError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseRules(text, basename(path));
}
