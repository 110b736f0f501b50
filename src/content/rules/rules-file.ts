/**
 * Reads a rules document (YAML, or JSON — which YAML parses too) and validates it, reporting the
 * first problem with its line: `rules.yaml:12: rules.1.reply: reply has more than one action`. A
 * `.json` file's syntax is checked by the JSON parser first, so a truncated or mistyped JSON file
 * gets JSON's complaint with its line and column (`rules.json:3:18: Expected ',' or '}' after
 * property value`), not a YAML parser's about indentation.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { ZodError } from 'zod';
import { readProblem } from '../../util/read-problem.js';
import { RulesDocumentSchema, type Rule } from './rule-schema.js';

/**
 * The rules document is unreadable or invalid; the message is `<label>[:line[:column]]: <problem>`,
 * and the parts are kept for a caller that names the file its own way.
 */
export class RulesFileError extends Error {
  override readonly name = 'RulesFileError';
  constructor(
    readonly label: string,
    readonly problem: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(
      `${label}${line === undefined ? '' : `:${line}`}${column === undefined ? '' : `:${column}`}: ${problem}`,
    );
  }

  /** The problem with its place in the file, without the file: `line 3, column 18: …`. */
  get located(): string {
    if (this.line === undefined) return this.problem;
    return `line ${this.line}${this.column === undefined ? '' : `, column ${this.column}`}: ${this.problem}`;
  }
}

/**
 * JSON's own syntax error, at its line and column. V8 says where by character offset (`… in JSON
 * at position 66`), or not at all when the text ends too soon: then the place is the end.
 */
function checkJsonSyntax(text: string, label: string): void {
  try {
    JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : text.length;
    const before = text.slice(0, offset).split('\n');
    const problem =
      'invalid JSON: ' +
      message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '');
    throw new RulesFileError(label, problem, before.length, before[before.length - 1]!.length + 1);
  }
}

/** Parses and validates rules text; `label` names the source in error messages. */
export function parseRules(text: string, label: string): Rule[] {
  if (/\.json$/i.test(label) && text.trim() !== '') checkJsonSyntax(text, label);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    throw new RulesFileError(label, yamlError.message.split('\n')[0]!, line);
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
  throw describeIssue(parsed.error, label, lineOf);
}

function describeIssue(
  error: ZodError,
  label: string,
  lineOf: (path: readonly (string | number)[]) => number | undefined,
): RulesFileError {
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
  return new RulesFileError(label, `${where}${issue?.message ?? 'invalid rules'}`, line);
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
    throw new RulesFileError(path, readProblem(err));
  }
  return parseRules(text, basename(path));
}
