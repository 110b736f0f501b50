/**
 * Seeded strings that match a regular expression, for `guided_regex` (vLLM's structured outputs
 * `regex`). Only a safe subset is accepted — literals, escapes (\d \w \s and their negations),
 * classes with ranges, `.`, groups, alternation, greedy or lazy quantifiers, `^` at the start and
 * `$` at the end — and the pattern is checked before anything is generated, so a hostile pattern
 * costs linear time. Backreferences, lookarounds, word boundaries, Unicode properties and huge
 * repetition counts are refused with an error naming the construct (the API answers 400).
 */
import type { Random } from './random.js';

/** The pattern uses something outside the supported subset; the message names it. */
export class UnsupportedRegexError extends Error {
  override readonly name = 'UnsupportedRegexError';
}

/** Longest pattern accepted, in characters. */
export const MAX_REGEX_LENGTH = 2000;
/** Largest `{n,m}` bound accepted. */
const MAX_REPEAT = 1000;
/** Extra repetitions drawn for `*`, `+` and `{n,}` beyond their minimum. */
const OPEN_REPEAT_EXTRA = 4;

type Node =
  | { readonly kind: 'chars'; readonly set: readonly string[] }
  | { readonly kind: 'seq'; readonly items: readonly Node[] }
  | { readonly kind: 'alt'; readonly options: readonly Node[] }
  | { readonly kind: 'repeat'; readonly node: Node; readonly min: number; readonly max: number };

const PRINTABLE: readonly string[] = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
const DIGITS = PRINTABLE.filter((c) => c >= '0' && c <= '9');
const WORD = PRINTABLE.filter((c) => /\w/.test(c));
const SPACE = [' ', '\t', '\n'];
/** What `.` and negated classes draw from: printable ASCII, so outputs stay readable. */
const DOT = PRINTABLE;

/** A parsed pattern that can generate matching strings. */
export interface RegexGenerator {
  readonly pattern: string;
  generate(rng: Random): string;
}

/** Parses `pattern`; throws UnsupportedRegexError for anything outside the safe subset. */
export function compileRegex(pattern: string): RegexGenerator {
  if (pattern.length > MAX_REGEX_LENGTH) {
    throw new UnsupportedRegexError(`regex longer than ${MAX_REGEX_LENGTH} characters`);
  }
  try {
    new RegExp(pattern);
  } catch (err) {
    throw new UnsupportedRegexError(`invalid regex: ${(err as Error).message}`);
  }
  const node = createParser(pattern).parseAll();
  return { pattern, generate: (rng) => emit(node, rng) };
}

function emit(node: Node, rng: Random): string {
  switch (node.kind) {
    case 'chars':
      return node.set[rng.nextInt(node.set.length)] ?? '';
    case 'seq':
      return node.items.map((item) => emit(item, rng)).join('');
    case 'alt':
      return emit(node.options[rng.nextInt(node.options.length)]!, rng);
    case 'repeat': {
      const count = node.min + rng.nextInt(node.max - node.min + 1);
      let out = '';
      for (let i = 0; i < count; i++) out += emit(node.node, rng);
      return out;
    }
  }
}

function createParser(src: string) {
  let pos = 0;
  const peek = (): string | undefined => src[pos];
  const fail = (what: string): never => {
    throw new UnsupportedRegexError(`unsupported regex construct ${what} at position ${pos}`);
  };

  const parseAlt = (depth: number): Node => {
    const options: Node[] = [parseSeq(depth)];
    while (peek() === '|') {
      pos++;
      options.push(parseSeq(depth));
    }
    return options.length === 1 ? options[0]! : { kind: 'alt', options };
  };

  const parseSeq = (depth: number): Node => {
    const items: Node[] = [];
    for (;;) {
      const c = peek();
      if (c === undefined || c === '|' || c === ')') break;
      if (c === '^') {
        if (pos !== 0) fail("'^' other than at the start");
        pos++;
        continue;
      }
      if (c === '$') {
        if (pos !== src.length - 1 || depth > 0) fail("'$' other than at the end");
        pos++;
        continue;
      }
      items.push(parseQuantified(parseAtom(depth)));
    }
    return items.length === 1 ? items[0]! : { kind: 'seq', items };
  };

  const parseQuantified = (atom: Node): Node => {
    const c = peek();
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      pos++;
      min = c === '+' ? 1 : 0;
      max = c === '?' ? 1 : min + OPEN_REPEAT_EXTRA;
    } else if (c === '{' && /^\{\d+(,\d*)?\}/.test(src.slice(pos))) {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(pos))!;
      pos += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? min + OPEN_REPEAT_EXTRA : Number(m[3]);
      if (min > MAX_REPEAT || max > MAX_REPEAT) fail(`'${m[0]}' (repetition above ${MAX_REPEAT})`);
      if (max < min) fail(`'${m[0]}' (max below min)`);
    } else {
      return atom;
    }
    if (peek() === '?') pos++; // lazy: same language
    if (peek() === '*' || peek() === '+' || peek() === '{') fail(`'${peek()}' (nested quantifier)`);
    return { kind: 'repeat', node: atom, min, max };
  };

  const parseAtom = (depth: number): Node => {
    const c = src[pos++]!;
    if (c === '(') {
      if (peek() === '?') {
        const head = src.slice(pos, pos + 3);
        if (head.startsWith('?:')) pos += 2;
        else if (/^\?<[A-Za-z]/.test(head)) pos = src.indexOf('>', pos) + 1;
        else fail(`'(${head}' (lookaround or group flag)`);
      }
      const inner = parseAlt(depth + 1);
      if (peek() !== ')') fail("'(' without ')'");
      pos++;
      return inner;
    }
    if (c === '[') return parseClass();
    if (c === '.') return { kind: 'chars', set: DOT };
    if (c === '\\') return parseEscape(false);
    if (c === '*' || c === '+' || c === '?' || c === '{') fail(`'${c}' (nothing to repeat)`);
    return { kind: 'chars', set: [c] };
  };

  /** An escape; inside a class, only single characters and \d \w \s are allowed. */
  const parseEscape = (inClass: boolean): Node => {
    const e = src[pos++];
    if (e === undefined) return fail("'\\' at the end");
    switch (e) {
      case 'd':
        return { kind: 'chars', set: DIGITS };
      case 'w':
        return { kind: 'chars', set: WORD };
      case 's':
        return { kind: 'chars', set: SPACE };
      case 'D':
        return { kind: 'chars', set: DOT.filter((x) => !DIGITS.includes(x)) };
      case 'W':
        return { kind: 'chars', set: DOT.filter((x) => !WORD.includes(x)) };
      case 'S':
        return { kind: 'chars', set: DOT.filter((x) => !SPACE.includes(x)) };
      case 'n':
        return { kind: 'chars', set: ['\n'] };
      case 't':
        return { kind: 'chars', set: ['\t'] };
      case 'r':
        return { kind: 'chars', set: ['\r'] };
      case 'x': {
        const hex = /^[0-9a-fA-F]{2}/.exec(src.slice(pos));
        if (!hex) return fail("'\\x' without two hex digits");
        pos += 2;
        return { kind: 'chars', set: [String.fromCharCode(parseInt(hex[0], 16))] };
      }
      case 'u': {
        const hex = /^[0-9a-fA-F]{4}/.exec(src.slice(pos));
        if (!hex) return fail("'\\u' without four hex digits");
        pos += 4;
        return { kind: 'chars', set: [String.fromCharCode(parseInt(hex[0], 16))] };
      }
      default:
        if (/[0-9]/.test(e)) return fail(`'\\${e}' (backreference)`);
        if (inClass && e === 'b') return { kind: 'chars', set: ['\b'] };
        if (/[bBpPkcfv]/.test(e)) return fail(`'\\${e}'`);
        if (/[A-Za-z]/.test(e)) return fail(`'\\${e}'`);
        return { kind: 'chars', set: [e] };
    }
  };

  const parseClass = (): Node => {
    const negate = peek() === '^';
    if (negate) pos++;
    const members = new Set<string>();
    let first = true;
    for (;;) {
      const c = src[pos];
      if (c === undefined) return fail("'[' without ']'");
      if (c === ']' && !first) {
        pos++;
        break;
      }
      first = false;
      let from: readonly string[];
      if (c === '\\') {
        pos++;
        const node = parseEscape(true);
        from = node.kind === 'chars' ? node.set : [];
      } else {
        pos++;
        from = [c];
      }
      if (from.length === 1 && peek() === '-' && src[pos + 1] !== ']' && src[pos + 1] !== undefined) {
        pos++;
        let hi = src[pos++]!;
        if (hi === '\\') {
          const node = parseEscape(true);
          if (node.kind !== 'chars' || node.set.length !== 1) return fail('a class range ending in a class');
          hi = node.set[0]!;
        }
        const lo = from[0]!.charCodeAt(0);
        const top = hi.charCodeAt(0);
        if (top < lo) return fail(`range '${from[0]}-${hi}' out of order`);
        if (top - lo > 0xffff) return fail('a range that large');
        for (let code = lo; code <= top; code++) members.add(String.fromCharCode(code));
      } else {
        for (const m of from) members.add(m);
      }
    }
    const set = negate ? DOT.filter((c) => !members.has(c)) : [...members];
    if (set.length === 0) return fail('an empty character class');
    return { kind: 'chars', set };
  };

  return {
    parseAll(): Node {
      const node = parseAlt(0);
      if (pos < src.length) fail(`'${src[pos]}'`);
      return node;
    },
  };
}
