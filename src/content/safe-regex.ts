/**
 * Regular expressions from outside (a rules file, PATCH /admin/config) run against what clients
 * send, on the one event-loop thread: a backtracking pattern such as `(a+)+$` on a long message
 * would hang the whole server (ReDoS). Two guards:
 * - `compileSafeRegex` refuses, with a message naming it, the constructs that make V8's
 *   backtracking engine exponential — nested repetition (star height > 1, the check of the
 *   `safe-regex` package), repeated alternation (`(a|aa)*`), backreferences — and caps the
 *   pattern's length and `{n,m}` counts. That catches mistakes when rules are loaded.
 * - `safeExec` is the backstop for what a static check cannot see (polynomial blow-ups such as
 *   `.*.*.*=`): it matches at most MAX_MATCH_INPUT_CHARS characters inside a `node:vm` context
 *   with a timeout, which V8 interrupts even mid-backtrack (Node docs, vm `timeout`), so one match
 *   costs at most MATCH_TIMEOUT_MS of the event loop.
 * Stop strings never come here: they are matched as plain strings.
 */
import { createContext, Script } from 'node:vm';

/** The pattern is refused; the message names the construct. */
export class UnsafeRegexError extends Error {
  override readonly name = 'UnsafeRegexError';
}

export const MAX_PATTERN_CHARS = 1000;
/** Input longer than this is matched on its first MAX_MATCH_INPUT_CHARS characters only. */
export const MAX_MATCH_INPUT_CHARS = 16_384;
/** Longest one match may run before it is abandoned. */
export const MATCH_TIMEOUT_MS = 50;
const MAX_REPEAT = 1000;
/**
 * Most atoms a pattern may expand to, bounded repeats written out: `[\s\S]{1000}` ten times runs
 * in ~1 ms on 16 KB, twenty times took 2 s (stopped by the timeout on every match).
 */
export const MAX_PATTERN_EXPANSION = 10_000;

/** A match ran past MATCH_TIMEOUT_MS and was stopped; callers treat it as no match (and log it). */
export class RegexTimeoutError extends Error {
  override readonly name = 'RegexTimeoutError';
}

interface Frame {
  /** Something inside repeats (a `*`, `+` or `{n,m}` with m > 1). */
  repeats: boolean;
  alternates: boolean;
  /** Atoms inside, bounded repeats written out. */
  size: number;
}

type Atom =
  | { kind: 'single'; size: 1 }
  | { kind: 'group'; repeats: boolean; alternates: boolean; size: number }
  | undefined;

const SINGLE = { kind: 'single', size: 1 } as const;

/** Throws UnsafeRegexError if `pattern` could backtrack super-linearly (see the file comment). */
export function checkRegexSafety(pattern: string): void {
  if (pattern.length > MAX_PATTERN_CHARS) {
    throw new UnsafeRegexError(`the pattern is longer than ${MAX_PATTERN_CHARS} characters`);
  }
  const stack: Frame[] = [{ repeats: false, alternates: false, size: 0 }];
  let last: Atom;
  const top = () => stack[stack.length - 1]!;

  const quantify = (min: number, max: number) => {
    if (!last) throw new UnsafeRegexError('a quantifier has nothing to repeat');
    if (max > MAX_REPEAT && max !== Infinity) throw new UnsafeRegexError(`a repeat count over ${MAX_REPEAT}`);
    if (min > MAX_REPEAT) throw new UnsafeRegexError(`a repeat count over ${MAX_REPEAT}`);
    if (max > 1) {
      if (last.kind === 'group' && last.repeats) {
        throw new UnsafeRegexError('nested repetition such as (a+)+ (exponential backtracking)');
      }
      if (last.kind === 'group' && last.alternates) {
        throw new UnsafeRegexError('a repeated alternation such as (a|ab)* (exponential backtracking)');
      }
      top().repeats = true;
    }
    // The atom's one copy is counted already; a bounded repeat writes out max copies.
    const copies = max === Infinity ? Math.max(min, 1) : max;
    top().size += last.size * (copies - 1);
    if (top().size > MAX_PATTERN_EXPANSION) {
      throw new UnsafeRegexError(`the pattern expands to more than ${MAX_PATTERN_EXPANSION} atoms`);
    }
    last = undefined;
  };
  const atom = (value: NonNullable<Atom>) => {
    last = value;
    top().size += value.size;
  };

  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    switch (ch) {
      case '\\': {
        const next = pattern[i + 1];
        if (next !== undefined && (/[1-9]/.test(next) || next === 'k')) {
          throw new UnsafeRegexError('a backreference');
        }
        i++;
        atom(SINGLE);
        break;
      }
      case '[': {
        let j = i + 1;
        if (pattern[j] === '^') j++;
        if (pattern[j] === ']') j++;
        while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
        i = j;
        atom(SINGLE);
        break;
      }
      case '(': {
        // Skip the group's prefix: (?: (?= (?! (?<= (?<! (?<name>
        if (pattern[i + 1] === '?') {
          const m = /^\(\?(?::|=|!|<=|<!|<[A-Za-z_$][\w$]*>)/.exec(pattern.slice(i));
          if (m) i += m[0].length - 1;
        }
        stack.push({ repeats: false, alternates: false, size: 0 });
        last = undefined;
        break;
      }
      case ')': {
        const frame = stack.length > 1 ? stack.pop()! : top();
        if (frame.repeats) top().repeats = true;
        atom({ kind: 'group', repeats: frame.repeats, alternates: frame.alternates, size: frame.size });
        break;
      }
      case '|':
        top().alternates = true;
        last = undefined;
        break;
      case '*':
      case '+':
      case '?':
        quantify(ch === '+' ? 1 : 0, ch === '?' ? 1 : Infinity);
        if (pattern[i + 1] === '?') i++; // lazy
        break;
      case '{': {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
        if (!m) {
          atom(SINGLE); // a literal brace
          break;
        }
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        quantify(min, max);
        i += m[0].length - 1;
        if (pattern[i + 1] === '?') i++;
        break;
      }
      default:
        atom(SINGLE);
    }
  }
}

/** Checks, then compiles; a pattern JavaScript cannot compile is an UnsafeRegexError too. */
export function compileSafeRegex(pattern: string, flags = ''): RegExp {
  checkRegexSafety(pattern);
  try {
    return new RegExp(pattern, flags);
  } catch (err) {
    throw new UnsafeRegexError(`invalid pattern: ${(err as Error).message}`);
  }
}

// One context for every match: creating a context costs about a millisecond, running in it ~0.1 ms.
const sandbox = createContext({ re: /$^/, input: '', result: null as RegExpExecArray | null });
const execScript = new Script('result = re.exec(input)');

/**
 * `re.exec` on at most MAX_MATCH_INPUT_CHARS characters of `input`, stopped after `timeoutMs`
 * (RegexTimeoutError). The result's arrays come from the sandbox's realm: read them, do not
 * `instanceof` them.
 *
 * The vm timeout is wall-clock time: on a loaded machine (a CI runner, a load test beside the
 * server) the process may not run at all for 50 ms, and a trivial pattern would be stopped. So a
 * timeout during which the process used less than half the allowance of CPU is a scheduling
 * stall, not a pattern backtracking, and the match runs once more; a pattern that did burn the
 * CPU is stopped at once.
 */
export function safeExec(re: RegExp, input: string, timeoutMs = MATCH_TIMEOUT_MS): RegExpExecArray | null {
  sandbox['re'] = re;
  sandbox['input'] = input.length > MAX_MATCH_INPUT_CHARS ? input.slice(0, MAX_MATCH_INPUT_CHARS) : input;
  try {
    for (let attempt = 0; ; attempt++) {
      const cpuBefore = process.cpuUsage();
      try {
        execScript.runInContext(sandbox, { timeout: timeoutMs });
        return sandbox['result'] as RegExpExecArray | null;
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw err;
        const cpu = process.cpuUsage(cpuBefore);
        const cpuMs = (cpu.user + cpu.system) / 1000;
        if (attempt === 0 && cpuMs < timeoutMs / 2) continue;
        throw new RegexTimeoutError(`the pattern ${re} ran longer than ${timeoutMs} ms and was stopped`);
      }
    }
  } finally {
    sandbox['re'] = /$^/;
    sandbox['input'] = '';
    sandbox['result'] = null;
  }
}
