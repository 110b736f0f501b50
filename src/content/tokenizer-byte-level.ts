/**
 * A byte-level BPE tokenizer (GPT-2's byte alphabet, a pre-tokenizer pattern, ranked merges: bpe.ts)
 * behind the Tokenizer interface, with its caches, limits and event-loop slicing — Llama 3's and
 * gpt-oss's o200k_harmony (tokenizer.ts picks the spec).
 */
import { LRUCache } from 'lru-cache';

import { createBpe, type BpeTables } from './bpe.js';
import { createVocabularyDecoder } from './vocabulary-decoder.js';
import {
  ENCODE_CACHE_MAX_BYTES,
  ENCODE_CACHE_MAX_ENTRIES,
  ENCODE_CACHE_MAX_ENTRY_BYTES,
  ENCODE_SLICE_CHARS,
  ENCODE_SLICE_TOKENS,
  MAX_PIECE_CHARS,
  PIECE_CACHE_MAX_BYTES,
  PIECE_CACHE_MAX_ENTRIES,
  type Tokenizer,
  type TokenizerFamily,
} from './tokenizer.js';

/** What a byte-level BPE tokenizer is made of (Llama 3's, o200k_harmony's). */
export interface ByteLevelSpec {
  readonly family: TokenizerFamily;
  /** Regular vocabulary and merges; `vocabById` also holds the special tokens' text. */
  readonly tables: BpeTables;
  /** The pre-tokenizer (flags `gu`), applied to the text between special tokens. */
  readonly pretokenizer: RegExp;
  /** Special-token markup (flag `g`); a match that `specialId` does not know is ordinary text. */
  readonly specialText: RegExp;
  readonly specialId: (text: string) => number | undefined;
  /** Ids from this one up are special tokens. */
  readonly firstSpecialId: number;
  readonly eosTokenIds: readonly number[];
  readonly bosTokenId: number | undefined;
}

/** Bytes a cached entry is counted as: key (UTF-16), ids (8 bytes each) and overhead. */
const entryBytes = (ids: readonly number[], text: string): number => 2 * text.length + 8 * ids.length + 64;

/** A byte-level BPE tokenizer (GPT-2 byte alphabet, pre-tokenizer regex, ranked merges). */
export function createByteLevelTokenizer(spec: ByteLevelSpec): Tokenizer {
  const { family, pretokenizer, specialText } = spec;
  const decoder = createVocabularyDecoder({
    vocab: spec.tables.vocabById,
    bytesOfPiece: (piece) => {
      const bytes = new Uint8Array(piece.length);
      for (let i = 0; i < piece.length; i++) bytes[i] = UNICODE_TO_BYTE[piece.charCodeAt(i)] ?? 0;
      return bytes;
    },
    isSpecialToken: (id) => id >= spec.firstSpecialId && id < spec.tables.vocabById.length,
  });
  const encodeCache = new LRUCache<string, readonly number[]>({
    max: ENCODE_CACHE_MAX_ENTRIES,
    maxSize: ENCODE_CACHE_MAX_BYTES,
    maxEntrySize: ENCODE_CACHE_MAX_ENTRY_BYTES,
    sizeCalculation: entryBytes,
  });

  const pieceCache = new LRUCache<string, readonly number[]>({
    max: PIECE_CACHE_MAX_ENTRIES,
    maxSize: PIECE_CACHE_MAX_BYTES,
    sizeCalculation: entryBytes,
  });
  const bpe = createBpe(spec.tables);
  const specialId = spec.specialId;

  /**
   * One pre-token's ids, through the cache; an overlong one in MAX_PIECE_CHARS parts, stopping
   * between parts once `out` holds `limit` ids or `maxChars` characters are done. Returns the
   * characters encoded.
   */
  const encodePiece = (piece: string, out: number[], limit: number, maxChars: number): number => {
    if (piece.length <= MAX_PIECE_CHARS) {
      let ids = pieceCache.get(piece);
      if (ids === undefined) {
        ids = bpe.encode(piece);
        pieceCache.set(piece, ids);
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
      return piece.length;
    }
    let at = 0;
    while (at < piece.length && out.length < limit && at < maxChars) {
      let end = Math.min(piece.length, at + MAX_PIECE_CHARS);
      // Never between the two halves of a surrogate pair: a lone half would encode as U+FFFD.
      if (end < piece.length && isHighSurrogate(piece.charCodeAt(end - 1))) end--;
      encodePiece(piece.slice(at, end), out, limit, Infinity);
      at = end;
    }
    return at;
  };

  /**
   * `text` from `start`, which holds no special-token markup, pre-token by pre-token; returns the
   * position reached: `text.length`, or less once `out` holds `limit` ids or the characters from
   * `start` reach `maxChars`. Byte-level BPE never merges across pre-tokens, so each one encodes
   * alone exactly as inside its text, and the library's per-call setup and pre-tokenising regex
   * (which dominated a short prompt's cost, ~40 µs for 15 tokens) run once per new pre-token only.
   * The pattern never looks behind its match, so matching from a returned position gives the
   * pre-tokens an uninterrupted pass would have matched there.
   */
  const encodeOrdinary = (
    text: string,
    start: number,
    out: number[],
    limit: number,
    maxChars: number,
  ): number => {
    const stopAt = start + maxChars;
    let end = start;
    // One shared pattern object: each pass sets lastIndex and runs without yielding.
    pretokenizer.lastIndex = start;
    for (let match = pretokenizer.exec(text); match !== null; match = pretokenizer.exec(text)) {
      // The pattern covers every character; a gap would be encoded as a piece of its own.
      if (match.index > end) {
        const used = encodePiece(text.slice(end, match.index), out, limit, stopAt - end);
        if (end + used < match.index) return end + used;
      }
      const piece = match[0];
      const used = encodePiece(piece, out, limit, stopAt - match.index);
      end = match.index + used;
      if (used < piece.length) return end;
      if ((out.length >= limit || end >= stopAt) && end < text.length) return end;
      pretokenizer.lastIndex = end;
    }
    if (end < text.length) return end + encodePiece(text.slice(end), out, limit, stopAt - end);
    return text.length;
  };

  /**
   * `text` from `start`: special-token markup becomes its id (as the library splits on it, the
   * text between is pre-tokenised as a string of its own). Returns the position reached:
   * `text.length`, or less once `out` holds `limit` ids or about `maxChars` characters from
   * `start` were encoded; calling again from there continues exactly as an uninterrupted pass.
   * `markupAt` is where the first `<|` at or after `start` is (-1: none), passed by a caller that
   * resumes often so that a long text is not searched again from every slice.
   */
  const encodeFrom = (
    text: string,
    start: number,
    out: number[],
    limit: number,
    maxChars: number,
    markupAt = text.indexOf('<|', start),
  ): number => {
    if (markupAt < 0) return encodeOrdinary(text, start, out, limit, maxChars);
    const stopAt = start + maxChars;
    let at = start;
    // A pattern object of its own (encodeOrdinary's runs in between), matched lazily.
    specialText.lastIndex = start;
    for (let match = specialText.exec(text); match !== null; match = specialText.exec(text)) {
      const id = specialId(match[0]);
      // Markup that names no special token stays text, encoded with what follows it.
      if (id === undefined) continue;
      if (match.index > at) {
        const part = text.slice(at, match.index);
        const used = encodeOrdinary(part, 0, out, limit, stopAt - at);
        if (used < part.length) return at + used;
      }
      out.push(id);
      at = match.index + match[0].length;
      if ((out.length >= limit || at >= stopAt) && at < text.length) return at;
    }
    if (at < text.length) return at + encodeOrdinary(text.slice(at), 0, out, limit, stopAt - at);
    return text.length;
  };

  /** All of `text`, or as far as `limit`; returns the position reached. */
  const encodeFresh = (text: string, out: number[], limit: number): number =>
    encodeFrom(text, 0, out, limit, Infinity);

  const cachedIds = (text: string): readonly number[] => {
    let ids = encodeCache.get(text);
    if (ids === undefined) {
      const fresh: number[] = [];
      encodeFresh(text, fresh, Infinity);
      ids = fresh;
      encodeCache.set(text, ids);
    }
    return ids;
  };

  return {
    family,
    encode(text: string): number[] {
      // A copy: callers own their arrays and must not be able to corrupt the cache.
      return cachedIds(text).slice();
    },
    encodeInto(text: string, out: number[], limit = Infinity): boolean {
      const cached = encodeCache.get(text);
      if (cached === undefined && limit !== Infinity) {
        // Not cached: encode only as far as the limit; a partial result is not cached.
        const start = out.length;
        const used = encodeFresh(text, out, limit);
        if (used < text.length) return false;
        encodeCache.set(text, out.slice(start));
        return true;
      }
      const ids = cached ?? cachedIds(text);
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
      return true;
    },
    async encodeIntoAsync(text: string, out: number[], limit = Infinity): Promise<boolean> {
      const cached = encodeCache.get(text);
      if (cached !== undefined) {
        for (let i = 0; i < cached.length; i++) out.push(cached[i]!);
        return true;
      }
      const start = out.length;
      let at = 0;
      let markupAt = text.indexOf('<|');
      for (;;) {
        const sliceLimit = Math.min(limit, out.length + ENCODE_SLICE_TOKENS);
        // Searched again only once passed: one linear pass over the text in all.
        if (markupAt >= 0 && markupAt < at) markupAt = text.indexOf('<|', at);
        at = encodeFrom(text, at, out, sliceLimit, ENCODE_SLICE_CHARS, markupAt);
        if (at >= text.length) break;
        if (out.length >= limit) return false;
        await yieldToEventLoop();
      }
      encodeCache.set(text, out.slice(start));
      return true;
    },
    ...decoder,
    eosTokenIds: spec.eosTokenIds,
    bosTokenId: spec.bosTokenId,
    cachedBytes: () => encodeCache.calculatedSize + pieceCache.calculatedSize,
  };
}

/** Lets timers and I/O run before the next slice (setImmediate: after pending I/O callbacks). */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * GPT-2 byte-level BPE writes each byte as a printable character: printable Latin-1 bytes stand for
 * themselves, the rest map to U+0100 upwards in byte order. This is the inverse table (char code →
 * byte); special-token text is plain ASCII and maps to its own bytes.
 */
const UNICODE_TO_BYTE: readonly number[] = (() => {
  const table: number[] = [];
  let next = 0;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
    table[printable ? byte : 256 + next++] = byte;
  }
  return table;
})();
