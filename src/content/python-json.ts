/**
 * Python's spelling of JSON and whitespace, as the models' Jinja chat templates produce it through
 * Hugging Face's `apply_chat_template` (`tojson` is Python's `json.dumps`, `trim` is `str.strip`):
 * prompts rendered with these count the tokens the real model counts, and JSON a model "writes"
 * (tool arguments, structured output) is spelled as Python would.
 */
/**
 * Python's `str.strip()` (Jinja's `trim`): its whitespace set differs from JS `trim` at the edges.
 * Scanned with two index loops, not `/[…]+$/`: a regular expression anchored at the end is tried
 * from every start position, so a long run of spaces before a final letter cost quadratic time
 * (1 MB of content took minutes).
 */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isPythonSpace(text.charCodeAt(start))) start++;
  while (end > start && isPythonSpace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** Python's `str.isspace()` for one UTF-16 unit (every such character is in the BMP). */
function isPythonSpace(code: number): boolean {
  if (code <= 0x20) return (code >= 0x09 && code <= 0x0d) || code >= 0x1c;
  if (code < 0x85) return false;
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Deepest JSON `pythonJson` writes; Python's own `json.dumps` stops near its recursion limit (1000). */
export const MAX_JSON_DEPTH = 512;

/** A value nested deeper than MAX_JSON_DEPTH (client input: tool call arguments, tool results). */
export class JsonDepthError extends Error {
  override readonly name = 'JsonDepthError';
}

/**
 * Python's `json.dumps(value, ensure_ascii=False, indent=indent)`, which is what the template's
 * `tojson` runs: `", "` and `": "` separators without indent, `","` plus newlines with it, and
 * Python's float spelling. Objects keep JS key order (integer-like keys first, unlike Python).
 * Throws JsonDepthError past MAX_JSON_DEPTH levels instead of overflowing the stack.
 */
export function pythonJson(value: unknown, indent?: number, level = 0): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value !== 'object') return JSON.stringify(String(value));
  if (level >= MAX_JSON_DEPTH) throw new JsonDepthError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  const entries: string[] = [];
  const isArray = Array.isArray(value);
  if (isArray) {
    for (const item of value as unknown[]) entries.push(pythonJson(item, indent, level + 1));
  } else {
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) entries.push(`${JSON.stringify(key)}: ${pythonJson(item, indent, level + 1)}`);
    }
  }
  const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return open + close;
  if (indent === undefined) return open + entries.join(', ') + close;
  const inner = '\n' + ' '.repeat(indent * (level + 1));
  return open + inner + entries.join(',' + inner) + '\n' + ' '.repeat(indent * level) + close;
}

/** Python `repr` of a JSON number: integers plainly, floats with `.0` or a two-digit exponent. */
export function pythonNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return String(value);
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const fixed = String(value);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}
