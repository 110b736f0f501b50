/**
 * Seeded strings that match a regular expression, for `guided_regex` (vLLM's structured outputs
 * `regex`) and JSON Schema `pattern`. Only a safe subset is accepted — literals, escapes (\d \w \s
 * and their negations), classes with ranges, `.`, groups, alternation, greedy or lazy quantifiers,
 * `^` at the start and `$` at the end — and the pattern is checked before anything is generated:
 * backreferences, lookarounds, word boundaries, Unicode properties, repetition counts over 1,000
 * and patterns whose expansion exceeds MAX_REGEX_EXPANSION are refused with an error naming the
 * construct (the API answers 400). Generating then costs at most that expansion.
 */
import type { Random } from '../util/random.js';

/** The pattern uses something outside the supported subset; the message names it. */
export class UnsupportedRegexError extends Error {
  override readonly name = 'UnsupportedRegexError';
}

/** Longest pattern accepted, in characters. */
export const MAX_REGEX_LENGTH = 2000;
/** Largest `{n,m}` bound accepted. */
const MAX_REPEAT = 1000;
/**
 * Most characters one generation may write, a repetition of a group that writes nothing counting
 * one: this bounds the output and the work (`((a{1000}){1000}){1000}` would write 10^9 characters;
 * it grew the heap to 4 GB).
 */
export const MAX_REGEX_EXPANSION = 100_000;
/** Extra repetitions drawn for `*`, `+` and `{n,}` beyond their minimum. */
const OPEN_REPEAT_EXTRA = 4;

/**
 * A character set as disjoint code-unit ranges in a fixed order (the order members were first
 * named, which the seeded draw follows), with running sizes for a binary search. Ranges, not
 * enumerated members: `[\u0000-\uffff]` is one range, not 65,536 strings.
 */
interface CharSet {
  readonly lo: readonly number[];
  readonly hi: readonly number[];
  /** Members before range i: ends[i] - (hi[i] - lo[i] + 1). */
  readonly ends: readonly number[];
  readonly size: number;
}

type Node =
  | { readonly kind: 'chars'; readonly set: CharSet }
  | { readonly kind: 'seq'; readonly items: readonly Node[] }
  | { readonly kind: 'alt'; readonly options: readonly Node[] }
  | { readonly kind: 'repeat'; readonly node: Node; readonly min: number; readonly max: number };

/** Printable ASCII: what `.` and negated classes draw from, so outputs stay readable. */
const DOT = charSet([[0x20, 0x7e]]);
const DIGITS = charSet([[0x30, 0x39]]);
const WORD = charSet([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
/** In this order: the draw order of `\s`. */
const SPACE = charSet([
  [0x20, 0x20],
  [0x09, 0x0a],
]);

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
  const steps = expansion(node);
  if (steps > MAX_REGEX_EXPANSION) {
    throw new UnsupportedRegexError(
      `regex expands to ${steps > 1e15 ? 'over 10^15' : steps.toLocaleString('en-US')} characters, more than ${MAX_REGEX_EXPANSION.toLocaleString('en-US')}`,
    );
  }
  return { pattern, generate: (rng) => emit(node, rng) };
}

/** Most characters `emit` writes for `node`, an empty repetition counting one (MAX_REGEX_EXPANSION). */
function expansion(node: Node): number {
  switch (node.kind) {
    case 'chars':
      return 1;
    case 'seq':
      return node.items.reduce((sum, item) => sum + expansion(item), 0);
    case 'alt':
      return node.options.reduce((max, option) => Math.max(max, expansion(option)), 0);
    case 'repeat':
      return node.max * Math.max(1, expansion(node.node));
  }
}

function emit(node: Node, rng: Random): string {
  switch (node.kind) {
    case 'chars':
      return pick(node.set, rng.nextInt(node.set.size));
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

/** The `index`-th member of `set`, in its order. */
function pick(set: CharSet, index: number): string {
  let lo = 0;
  let hi = set.ends.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (set.ends[mid]! > index) hi = mid;
    else lo = mid + 1;
  }
  const start = set.ends[lo]! - (set.hi[lo]! - set.lo[lo]! + 1);
  return String.fromCharCode(set.lo[lo]! + index - start);
}

/** A set of `ranges` in this order; a range (or part of one) already covered is skipped. */
function charSet(ranges: readonly (readonly [number, number])[]): CharSet {
  const lo: number[] = [];
  const hi: number[] = [];
  const ends: number[] = [];
  let size = 0;
  for (const [from, to] of ranges) {
    for (const [a, b] of uncovered(from, to, lo, hi)) {
      lo.push(a);
      hi.push(b);
      size += b - a + 1;
      ends.push(size);
    }
  }
  return { lo, hi, ends, size };
}

/** Parts of [from, to] outside the ranges lo[i]..hi[i], ascending. */
function uncovered(
  from: number,
  to: number,
  lo: readonly number[],
  hi: readonly number[],
): [number, number][] {
  const covered = lo
    .map((l, i): [number, number] => [l, hi[i]!])
    .filter(([l, h]) => h >= from && l <= to)
    .sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  let at = from;
  for (const [l, h] of covered) {
    if (l > at) out.push([at, l - 1]);
    at = Math.max(at, h + 1);
  }
  if (at <= to) out.push([at, to]);
  return out;
}

/** Members of `set` in printable ASCII that `without` lacks: negated classes and \D \W \S. */
function printableExcept(without: CharSet): CharSet {
  return charSet(uncovered(0x20, 0x7e, without.lo, without.hi).map(([a, b]) => [a, b] as const));
}

/** A set of single code units (a literal, an escape such as \n). */
function single(code: number): CharSet {
  return charSet([[code, code]]);
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
    return { kind: 'chars', set: single(c.charCodeAt(0)) };
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
        return { kind: 'chars', set: printableExcept(DIGITS) };
      case 'W':
        return { kind: 'chars', set: printableExcept(WORD) };
      case 'S':
        return { kind: 'chars', set: printableExcept(SPACE) };
      case 'n':
        return { kind: 'chars', set: single(0x0a) };
      case 't':
        return { kind: 'chars', set: single(0x09) };
      case 'r':
        return { kind: 'chars', set: single(0x0d) };
      case 'x': {
        const hex = /^[0-9a-fA-F]{2}/.exec(src.slice(pos, pos + 2));
        if (!hex) return fail("'\\x' without two hex digits");
        pos += 2;
        return { kind: 'chars', set: single(parseInt(hex[0], 16)) };
      }
      case 'u': {
        const hex = /^[0-9a-fA-F]{4}/.exec(src.slice(pos, pos + 4));
        if (!hex) return fail("'\\u' without four hex digits");
        pos += 4;
        return { kind: 'chars', set: single(parseInt(hex[0], 16)) };
      }
      default:
        if (/[0-9]/.test(e)) return fail(`'\\${e}' (backreference)`);
        if (inClass && e === 'b') return { kind: 'chars', set: single(0x08) };
        if (/[bBpPkcfv]/.test(e)) return fail(`'\\${e}'`);
        if (/[A-Za-z]/.test(e)) return fail(`'\\${e}'`);
        return { kind: 'chars', set: single(e.charCodeAt(0)) };
    }
  };

  const parseClass = (): Node => {
    const negate = peek() === '^';
    if (negate) pos++;
    const members: [number, number][] = [];
    let first = true;
    for (;;) {
      const c = src[pos];
      if (c === undefined) return fail("'[' without ']'");
      if (c === ']' && !first) {
        pos++;
        break;
      }
      first = false;
      let from: CharSet;
      if (c === '\\') {
        pos++;
        const node = parseEscape(true);
        from = node.kind === 'chars' ? node.set : single(0);
      } else {
        pos++;
        from = single(c.charCodeAt(0));
      }
      if (from.size === 1 && peek() === '-' && src[pos + 1] !== ']' && src[pos + 1] !== undefined) {
        pos++;
        let hi = src.charCodeAt(pos++);
        if (hi === 0x5c) {
          const node = parseEscape(true);
          if (node.kind !== 'chars' || node.set.size !== 1) return fail('a class range ending in a class');
          hi = node.set.lo[0]!;
        }
        const lo = from.lo[0]!;
        if (hi < lo)
          return fail(`range '${String.fromCharCode(lo)}-${String.fromCharCode(hi)}' out of order`);
        members.push([lo, hi]);
      } else {
        for (let i = 0; i < from.lo.length; i++) members.push([from.lo[i]!, from.hi[i]!]);
      }
    }
    const named = charSet(members);
    const set = negate ? printableExcept(named) : named;
    if (set.size === 0) return fail('an empty character class');
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
