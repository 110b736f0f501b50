/**
 * Reply templates: `{{name}}` placeholders filled from the request. Known names: `last_user`,
 * `system`, `model`, `tool_result` (the last tool message), `tools` (offered tool names, comma
 * separated), `header.<name>` and `match.<n>` (a `user_regex` group; `match.0` is the whole
 * match). Unknown names are refused when the rules are loaded, not when a request arrives.
 */

export interface TemplateValues {
  readonly lastUser: string;
  readonly system: string;
  readonly model: string;
  readonly toolResult: string;
  readonly tools: readonly string[];
  readonly header: (name: string) => string | undefined;
  readonly match: readonly (string | undefined)[];
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const SIMPLE = new Set(['last_user', 'system', 'model', 'tool_result', 'tools']);

/** Why the template is invalid, or undefined if it is fine. */
export function templateProblem(text: string): string | undefined {
  for (const m of text.matchAll(PLACEHOLDER)) {
    const name = m[1] ?? '';
    if (SIMPLE.has(name) || /^header\.[A-Za-z0-9-]+$/.test(name) || /^match\.\d+$/.test(name)) continue;
    return `unknown template placeholder {{${name}}} (known: ${[...SIMPLE].join(', ')}, header.<name>, match.<n>)`;
  }
  return undefined;
}

export function fillTemplate(text: string, values: TemplateValues): string {
  return text.replace(PLACEHOLDER, (_all, raw: string) => {
    const name = raw.trim();
    if (name === 'last_user') return values.lastUser;
    if (name === 'system') return values.system;
    if (name === 'model') return values.model;
    if (name === 'tool_result') return values.toolResult;
    if (name === 'tools') return values.tools.join(', ');
    if (name.startsWith('header.')) return values.header(name.slice('header.'.length)) ?? '';
    if (name.startsWith('match.')) return values.match[Number(name.slice('match.'.length))] ?? '';
    return '';
  });
}
