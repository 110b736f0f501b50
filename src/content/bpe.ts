/**
 * Byte-level BPE of one pre-token, over a vocabulary and merge list such as Llama 3's (the tables
 * llama3-tokenizer-js unpacks). As Hugging Face `tokenizers` does it (BPE `merge_word` with
 * `ignore_merges`): a pre-token that is itself a vocabulary entry is that token; otherwise its UTF-8
 * bytes start as byte tokens and the adjacent pair of lowest merge rank is merged, leftmost first,
 * until no pair merges.
 *
 * Written here rather than calling the library per pre-token because the library's per-call
 * setup (a special-token split, the pre-tokenising regex again, a priority queue of objects and a
 * string key per pair) made unseen text slow: 1M characters of random Unicode took 2.4 s, 0.4 s
 * here. Merges are ordered by (rank, position) as in Hugging Face; the library's tie-break adds
 * `position / text length` to the rank, which only differs where that fraction exceeds the gap
 * between two ranks (pre-tokens of three-byte characters) — never seen in the tests against it.
 */

/** The tables a BPE needs: byte-level vocabulary (by id and by string) and the ranked merges. */
export interface BpeTables {
  readonly vocabById: readonly string[];
  readonly vocabByString: ReadonlyMap<string, number>;
  /** `"left right"` (vocabulary strings) → rank, lower merges first. */
  readonly merges: ReadonlyMap<string, number>;
}

export interface Bpe {
  /** Ids of one pre-token (any string; a lone surrogate encodes as U+FFFD, as TextEncoder does). */
  encode(piece: string): number[];
}

/** Merge values pack rank * ID_BITS + merged id; ids are below 2^18 (o200k has 201,088). */
const ID_BITS = 2 ** 18;
/** Heap entries pack (rank, position); positions stay below this (pre-tokens are cut shorter). */
const POS_BITS = 2 ** 16;
/** Up to this many byte tokens, a linear scan per merge beats the heap's bookkeeping. */
const SCAN_MAX_TOKENS = 48;
/** Longer than any vocabulary entry: Llama 3's longest is 128 bytes (a run of spaces). */
const MAX_TOKEN_BYTES = 256;
/** Id pairs remembered (merging or not); the table starts over when it is this full. */
const PAIR_CACHE_SLOTS = 2 ** 18;

export function createBpe(tables: BpeTables): Bpe {
  const byteChar = byteLevelChars();
  const byteId = new Int32Array(256);
  for (let b = 0; b < 256; b++) byteId[b] = idOf(tables.vocabByString, byteChar[b]!);
  // Filled on demand: resolving all 280,147 merges to id pairs up front costs ~1 s of string
  // hashing, while a text meets a few thousand distinct pairs.
  const pairs = new PairTable(PAIR_CACHE_SLOTS);
  /** rank * ID_BITS + merged id of the pair, or -1 when it does not merge. */
  const mergeOf = (left: number, right: number): number => {
    const slot = pairs.find(left, right);
    if (slot >= 0) return pairs.value[slot]!;
    const leftText = tables.vocabById[left]!;
    const rightText = tables.vocabById[right]!;
    const rank = tables.merges.get(`${leftText} ${rightText}`);
    const value = rank === undefined ? -1 : rank * ID_BITS + idOf(tables.vocabByString, leftText + rightText);
    pairs.add(left, right, value);
    return value;
  };

  const byteCharCode = Uint16Array.from(byteChar, (c) => c.charCodeAt(0));
  const charCodes = new Uint16Array(MAX_TOKEN_BYTES);
  const utf8 = new TextEncoder();
  let bytes = new Uint8Array(256);
  let ids = new Int32Array(256);
  let next = new Int32Array(256);
  let prev = new Int32Array(256);

  const toBytes = (piece: string): number => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (bytes.length < piece.length * 3) {
      const size = piece.length * 3;
      bytes = new Uint8Array(size);
      ids = new Int32Array(size);
      next = new Int32Array(size);
      prev = new Int32Array(size);
    }
    return utf8.encodeInto(piece, bytes).written;
  };

  /**
   * Merges by linear scans over the pair values, looking up only the two pairs a merge changes:
   * fine for short pre-tokens, the common case.
   */
  const scanMerge = (n: number): number[] => {
    const out: number[] = [];
    const pairValue: number[] = [];
    for (let i = 0; i < n; i++) out.push(ids[i]!);
    for (let i = 0; i + 1 < n; i++) pairValue.push(mergeOf(ids[i]!, ids[i + 1]!));
    for (;;) {
      let best = -1;
      let bestValue = Infinity;
      for (let i = 0; i < pairValue.length; i++) {
        const value = pairValue[i]!;
        if (value >= 0 && value < bestValue) {
          bestValue = value;
          best = i;
        }
      }
      if (best < 0) return out;
      const merged = bestValue % ID_BITS;
      out.splice(best, 2, merged);
      pairValue.splice(best, 1);
      if (best > 0) pairValue[best - 1] = mergeOf(out[best - 1]!, merged);
      if (best < pairValue.length) pairValue[best] = mergeOf(merged, out[best + 1]!);
    }
  };

  /** Merges through a heap of (rank, position), entries checked when popped: O(n log n). */
  const heapMerge = (n: number): number[] => {
    const heap = new MinHeap();
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const push = (i: number): void => {
      const j = next[i]!;
      if (j < 0) return;
      const value = mergeOf(ids[i]!, ids[j]!);
      if (value >= 0) heap.push(Math.floor(value / ID_BITS) * POS_BITS + i);
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    while (heap.size > 0) {
      const top = heap.pop();
      const rank = Math.floor(top / POS_BITS);
      const i = top % POS_BITS;
      const j = next[i]!;
      // Stale: the left token was merged into its neighbour, or either side changed since.
      if (ids[i]! < 0 || j < 0) continue;
      const value = mergeOf(ids[i]!, ids[j]!);
      if (value < 0 || Math.floor(value / ID_BITS) !== rank) continue;
      ids[i] = value % ID_BITS;
      ids[j] = -1;
      const after = next[j]!;
      next[i] = after;
      if (after >= 0) prev[after] = i;
      if (prev[i]! >= 0) push(prev[i]!);
      push(i);
    }
    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i]!) out.push(ids[i]!);
    return out;
  };

  return {
    encode(piece: string): number[] {
      const n = toBytes(piece);
      if (n === 0) return [];
      // A pre-token that is a vocabulary entry is that token (Llama 3's ignore_merges); no entry is
      // longer than MAX_TOKEN_BYTES.
      if (n <= MAX_TOKEN_BYTES) {
        for (let i = 0; i < n; i++) charCodes[i] = byteCharCode[bytes[i]!]!;
        const whole = tables.vocabByString.get(
          String.fromCharCode.apply(null, charCodes.subarray(0, n) as unknown as number[]),
        );
        if (whole !== undefined) return [whole];
      }
      if (n > POS_BITS) throw new RangeError(`a pre-token of ${n} bytes is longer than BPE accepts`);
      for (let i = 0; i < n; i++) ids[i] = byteId[bytes[i]!]!;
      return n <= SCAN_MAX_TOKENS ? scanMerge(n) : heapMerge(n);
    },
  };
}

function idOf(vocab: ReadonlyMap<string, number>, text: string): number {
  const id = vocab.get(text);
  if (id === undefined) throw new Error(`BPE tables: ${JSON.stringify(text)} is not in the vocabulary`);
  return id;
}

/**
 * GPT-2's byte-to-character map: printable Latin-1 bytes stand for themselves, the others map to
 * U+0100 upwards in byte order (so a space is `Ġ`).
 */
export function byteLevelChars(): string[] {
  const chars: string[] = [];
  let next = 0;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
    chars[byte] = String.fromCharCode(printable ? byte : 256 + next++);
  }
  return chars;
}

/**
 * A fixed-size open-addressing hash table from an id pair to a number, in typed arrays (a Map keyed
 * by `left * 2^18 + right`, a heap number, was slow to probe). When three quarters full it starts
 * over, so it never grows.
 */
class PairTable {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  readonly value: Float64Array;
  private readonly mask: number;
  private count = 0;

  constructor(slots: number) {
    this.mask = slots - 1;
    this.left = new Int32Array(slots).fill(-1);
    this.right = new Int32Array(slots);
    this.value = new Float64Array(slots);
  }

  private slotOf(left: number, right: number): number {
    return (Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca77)) & this.mask;
  }

  /** The slot of the pair, or -1. */
  find(left: number, right: number): number {
    for (let slot = this.slotOf(left, right); ; slot = (slot + 1) & this.mask) {
      const l = this.left[slot]!;
      if (l === -1) return -1;
      if (l === left && this.right[slot] === right) return slot;
    }
  }

  /** Adds a pair not in the table. */
  add(left: number, right: number, value: number): void {
    if (this.count >= (this.mask + 1) * 0.75) {
      this.left.fill(-1);
      this.count = 0;
    }
    let slot = this.slotOf(left, right);
    while (this.left[slot] !== -1) slot = (slot + 1) & this.mask;
    this.left[slot] = left;
    this.right[slot] = right;
    this.value[slot] = value;
    this.count++;
  }
}

/** A binary min-heap of non-negative numbers. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    let i = items.length;
    items.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
