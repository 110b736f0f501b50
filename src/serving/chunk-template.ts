/**
 * A streamed chunk's JSON with one string left open. The chunks of one stream differ only in their
 * text (id, created, model, index and the null fields repeat), so the text around it is serialized
 * once per stream and each token's chunk is `prefix + JSON.stringify(text) + suffix` — one escape of
 * a short string instead of an object tree built and walked per token, as fast SSE servers do.
 *
 * The template is cut from the JSON of the very object the slow path would send, with a marker
 * where the text goes, so key order and escaping are JSON.stringify's own: the bytes are the same
 * by construction.
 */

/** A marker no id, model name or other field of a chunk holds (NUL is escaped, never sent raw). */
const HOLE = '\u0000nimsim-chunk-text\u0000';
const HOLE_JSON = JSON.stringify(HOLE);

export interface JsonTemplate {
  readonly prefix: string;
  readonly suffix: string;
}

/**
 * The template of `build(text)`'s JSON with `text` open, or undefined when the marker does not
 * appear exactly once (then the caller sends whole objects).
 */
export function jsonTemplate(build: (text: string) => unknown): JsonTemplate | undefined {
  const json = JSON.stringify(build(HOLE));
  const at = json.indexOf(HOLE_JSON);
  if (at < 0 || json.indexOf(HOLE_JSON, at + HOLE_JSON.length) >= 0) return undefined;
  return { prefix: json.slice(0, at), suffix: json.slice(at + HOLE_JSON.length) };
}

/** `JSON.stringify(build(text))`, for the `build` the template was made from. */
export function fillTemplate(template: JsonTemplate, text: string): string {
  return template.prefix + JSON.stringify(text) + template.suffix;
}
