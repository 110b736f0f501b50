/**
 * Stop-string matching for the output planner, in time linear in the output whatever the stop
 * strings: an Aho-Corasick automaton over all of them, fed each new piece of text once.
 *
 * What it finds is what vLLM's `check_stop_strings` (vllm/v1/engine/detokenizer.py) finds after
 * each token: for each stop string in list order, `output_text.find(stop, 1 - new_chars -
 * len(stop))` — an occurrence that ends inside the new text — and the first stop string (in list
 * order) that has one wins, at its leftmost such occurrence. The search before this kept the last
 * `longest stop` characters as a fresh string per token and searched it for every stop string: one
 * 200,000-character stop string with max_tokens 120,000 blocked the event loop for 35 s.
 */

export interface StopMatch {
  /** The stop string found. */
  readonly stop: string;
  /** Where it starts, counted from the start of all text fed. */
  readonly index: number;
}

export interface StopMatcher {
  /** Feeds the next piece of output text; the stop string vLLM would find after it, if any. */
  feed(piece: string): StopMatch | undefined;
}

const NONE = 0x7fffffff;

/** Automata per stop list: every choice of a request plans with the same list. */
const automata = new WeakMap<readonly string[], Automaton>();

/** A matcher at the start of the text; empty strings in `stops` are ignored (they would match everywhere). */
export function createStopMatcher(stops: readonly string[]): StopMatcher {
  let automaton = automata.get(stops);
  if (automaton === undefined) {
    automaton = buildAutomaton(stops);
    automata.set(stops, automaton);
  }
  let node = 0;
  let fed = 0;
  return {
    feed(piece) {
      let bestStop = NONE;
      let bestEnd = 0;
      const { step, best } = automaton;
      for (let i = 0; i < piece.length; i++) {
        node = step(node, piece.charCodeAt(i));
        const stop = best[node]!;
        // The first position where the smallest index ends is that string's leftmost occurrence.
        if (stop < bestStop) {
          bestStop = stop;
          bestEnd = fed + i + 1;
        }
      }
      fed += piece.length;
      if (bestStop === NONE) return undefined;
      const stop = stops[bestStop]!;
      return { stop, index: bestEnd - stop.length };
    },
  };
}

interface Automaton {
  /** Next state after reading `code` in `state` (failure links followed). */
  step(state: number, code: number): number;
  /** Per state: the smallest index of a stop string that ends there (is a suffix of it), or NONE. */
  readonly best: Int32Array;
}

function buildAutomaton(stops: readonly string[]): Automaton {
  // A trie whose nodes mostly have one child: that child lives in typed arrays, a Map only when a
  // node branches.
  const size = 1 + stops.reduce((sum, stop) => sum + stop.length, 0);
  const childCode = new Int32Array(size).fill(-1);
  const child = new Int32Array(size);
  const more: (Map<number, number> | undefined)[] = [];
  const fail = new Int32Array(size);
  const best = new Int32Array(size).fill(NONE);
  let nodes = 1;

  const goto = (state: number, code: number): number => {
    if (childCode[state] === code) return child[state]!;
    return more[state]?.get(code) ?? -1;
  };
  const addChild = (state: number, code: number): number => {
    const next = nodes++;
    if (childCode[state] === -1) {
      childCode[state] = code;
      child[state] = next;
    } else {
      let map = more[state];
      if (map === undefined) more[state] = map = new Map();
      map.set(code, next);
    }
    return next;
  };

  stops.forEach((stop, index) => {
    if (stop.length === 0) return;
    let state = 0;
    for (let i = 0; i < stop.length; i++) {
      const code = stop.charCodeAt(i);
      const next = goto(state, code);
      state = next >= 0 ? next : addChild(state, code);
    }
    if (index < best[state]!) best[state] = index;
  });

  // Breadth-first: failure links, and `best` inherited along them.
  const queue: number[] = [];
  const forEachChild = (state: number, visit: (code: number, next: number) => void): void => {
    if (childCode[state] !== -1) visit(childCode[state]!, child[state]!);
    more[state]?.forEach((next, code) => visit(code, next));
  };
  forEachChild(0, (_code, next) => {
    fail[next] = 0;
    queue.push(next);
  });
  for (let head = 0; head < queue.length; head++) {
    const state = queue[head]!;
    forEachChild(state, (code, next) => {
      let f = fail[state]!;
      while (f !== 0 && goto(f, code) < 0) f = fail[f]!;
      const target = goto(f, code);
      fail[next] = target >= 0 && target !== next ? target : 0;
      if (best[fail[next]!]! < best[next]!) best[next] = best[fail[next]!]!;
      queue.push(next);
    });
  }

  return {
    best,
    step(state, code) {
      for (;;) {
        const next = goto(state, code);
        if (next >= 0) return next;
        if (state === 0) return 0;
        state = fail[state]!;
      }
    },
  };
}
