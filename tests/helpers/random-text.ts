/**
 * Deterministic pseudo-random text for the hardening tests: the same seed gives the same text, so a
 * failing case can be replayed. One linear congruential generator (glibc's constants) for both.
 */
const next = (state: number) => (Math.imul(state, 1103515245) + 12345) >>> 0;

/** `n` BMP code points, surrogates excluded: text the tokenizer has never seen. */
export function randomUnicode(n: number, seed: number): string {
  let state = seed >>> 0;
  const codes: number[] = [];
  while (codes.length < n) {
    state = next(state);
    const code = state >>> 16;
    if (code < 0xd800 || code > 0xdfff) codes.push(code);
  }
  let text = '';
  for (let i = 0; i < codes.length; i += 4096) text += String.fromCharCode(...codes.slice(i, i + 4096));
  return text;
}

/** `n` lower-case ASCII letters with no space: one pre-token however long. */
export function randomLetters(n: number, seed: number): string {
  let state = seed >>> 0;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    state = next(state);
    out.push(String.fromCharCode(97 + ((state >>> 16) % 26)));
  }
  return out.join('');
}
