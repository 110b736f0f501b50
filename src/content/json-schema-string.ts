/**
 * Strings for the JSON Schema generator: a `pattern` through the guided-regex generator (drawn
 * again, up to 20 times, until its length fits minLength / maxLength; each discarded draw is spent
 * from the budget), a known `format`, or words padded or cut to the length bounds.
 */
import type { GenerationContext } from './json-schema-context.js';
import { JsonSchemaError } from './json-schema-shape.js';
import { compileRegex, UnsupportedRegexError, type RegexGenerator } from './guided-regex.js';

/** The generator of string values (the text, not yet JSON-quoted). */
export function createStringGenerator(
  ctx: Pick<GenerationContext, 'rng' | 'out' | 'strings'>,
): (schema: Record<string, unknown>, where: string) => string {
  const { rng, out, strings } = ctx;
  const regexes = new Map<string, RegexGenerator>();

  const regexFor = (pattern: string, where: string): RegexGenerator => {
    let regex = regexes.get(pattern);
    if (regex === undefined) {
      try {
        regex = compileRegex(pattern);
      } catch (err) {
        if (err instanceof UnsupportedRegexError)
          throw new JsonSchemaError(`${where}/pattern: ${err.message}`);
        throw err;
      }
      regexes.set(pattern, regex);
    }
    return regex;
  };

  return (schema, where) => {
    const minLength = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
    const maxLength = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : Infinity;
    if (maxLength < minLength) throw new JsonSchemaError(`${where}: maxLength below minLength`);
    if (typeof schema['pattern'] === 'string') {
      const regex = regexFor(schema['pattern'], where);
      // The pattern is searched, not anchored, in JSON Schema; a full match satisfies it too.
      let text = regex.generate(rng);
      for (let attempt = 0; attempt < 20 && !fits(text, minLength, maxLength); attempt++) {
        out.spend(text.length);
        text = regex.generate(rng);
      }
      return text;
    }
    const format = typeof schema['format'] === 'string' ? strings.formatted(schema['format']) : undefined;
    if (format !== undefined) return format;
    // Words are ASCII, so length counts code points here, as JSON Schema does.
    let text = `${strings.word()} ${strings.word()}`;
    while (text.length < minLength) text += ` ${strings.word()}`;
    if (text.length > maxLength) text = text.slice(0, maxLength).trimEnd();
    while (text.length < minLength) text += 'x';
    return text;
  };
}

function fits(text: string, min: number, max: number): boolean {
  const n = codePoints(text);
  return n >= min && n <= max;
}

/** JSON Schema counts code points, not UTF-16 units. */
function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}
