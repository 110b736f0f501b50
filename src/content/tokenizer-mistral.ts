/**
 * Mixtral 8x7B's tokenizer: Mistral v1's 32,000-token SentencePiece BPE (the vocabulary and merges
 * `mistral-tokenizer-js` ships, shared by Mistral 7B v0.1 and Mixtral 8x7B v0.1), behind the
 * Tokenizer interface.
 *
 * SentencePiece writes spaces as `▁` and has no pre-tokenizer; characters outside the vocabulary
 * fall back to byte tokens `<0xNN>` (ids 3–258); `<unk>`, `<s>` and `</s>` (0–2) are the special
 * tokens. No token of this vocabulary has a `▁` after another character, so no merge crosses the
 * start of a `▁`-led word: the text is split into such words, each encoded once (and cached) by
 * the package, exactly as the whole text would be.
 *
 * `encode` encodes text as it continues a sequence. A prompt's text gets SentencePiece's dummy
 * prefix (a space before the text that follows BOS or a special token, Hugging Face's `Prepend("▁")`
 * normalizer): callers that encode a prompt use `promptText` (tokenizer.ts).
 */
import { createRequire } from 'node:module';
import { LRUCache } from 'lru-cache';
import {
  ENCODE_CACHE_MAX_BYTES,
  ENCODE_SLICE_CHARS,
  MAX_PIECE_CHARS,
  PIECE_CACHE_MAX_BYTES,
  type Tokenizer,
} from './tokenizer.js';
import { createVocabularyDecoder } from './vocabulary-decoder.js';

/** The part of `mistral-tokenizer-js` used here. */
interface MistralPackage {
  encode(text: string, addBos: boolean, addPrecedingSpace: boolean): number[];
  readonly vocabById: readonly string[];
}

let loaded: MistralPackage | undefined;
/**
 * The package unpacks its vocabulary and merges at import (~0.1 s), so it is loaded on first use
 * only; `createRequire` keeps `createTokenizer` synchronous (the package is an ES module, which
 * Node's `require` loads since 20.19).
 */
function loadMistral(): MistralPackage {
  if (loaded === undefined) {
    let module: { default?: MistralPackage } & MistralPackage;
    try {
      module = createRequire(import.meta.url)('mistral-tokenizer-js') as typeof module;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw err;
      throw new Error(
        `Mixtral's tokenizer (mistral-tokenizer-js, an ES module) needs Node 20.19 or later; this is ${process.version}`,
        { cause: err },
      );
    }
    loaded = module.default ?? module;
  }
  return loaded;
}

const SPECIALS: Readonly<Record<string, number>> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
const SPECIAL_TEXT = /<unk>|<\/?s>/g;
/** Words: a run of `▁` (spaces) with the characters up to the next one; or trailing spaces. */
const WORD = / *[^ ]+| +/g;
const FIRST_BYTE_ID = 3;
const LAST_BYTE_ID = 258;

export function createMistralTokenizer(): Tokenizer {
  const pkg = loadMistral();
  const utf8 = new TextEncoder();
  const decoder = createVocabularyDecoder({
    vocab: pkg.vocabById,
    // A byte token `<0xNN>` stands for its byte; any other piece for its text, `▁` a space.
    bytesOfPiece: (piece, id) =>
      id >= FIRST_BYTE_ID && id <= LAST_BYTE_ID
        ? Uint8Array.of(Number.parseInt(piece.slice(3, 5), 16))
        : utf8.encode(piece.replaceAll('▁', ' ')),
    isSpecialToken: (id) => id >= 0 && id < FIRST_BYTE_ID,
  });
  const entryBytes = (ids: readonly number[], text: string) => 2 * text.length + 8 * ids.length + 64;
  const encodeCache = new LRUCache<string, readonly number[]>({
    max: 4096,
    maxSize: ENCODE_CACHE_MAX_BYTES,
    maxEntrySize: ENCODE_CACHE_MAX_BYTES / 8,
    sizeCalculation: entryBytes,
  });
  const wordCache = new LRUCache<string, readonly number[]>({
    max: 65_536,
    maxSize: PIECE_CACHE_MAX_BYTES,
    sizeCalculation: entryBytes,
  });

  /** One word's ids (a long one in MAX_PIECE_CHARS parts, each encoded alone). */
  const encodeWord = (word: string, out: number[]): void => {
    if (word.length > MAX_PIECE_CHARS) {
      let at = 0;
      while (at < word.length) {
        let end = Math.min(word.length, at + MAX_PIECE_CHARS);
        // Never between the two halves of a surrogate pair.
        const code = word.charCodeAt(end - 1);
        if (end < word.length && code >= 0xd800 && code <= 0xdbff) end--;
        encodeWord(word.slice(at, end), out);
        at = end;
      }
      return;
    }
    let ids = wordCache.get(word);
    if (ids === undefined) {
      ids = pkg.encode(word, false, false);
      wordCache.set(word, ids);
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
  };

  /**
   * `text` from `start` into `out`, word by word, special tokens as their ids; returns the position
   * reached: `text.length`, or less once `out` holds `limit` ids or `maxChars` characters are done.
   */
  const encodeFrom = (
    text: string,
    start: number,
    out: number[],
    limit: number,
    maxChars: number,
  ): number => {
    const stopAt = start + maxChars;
    let at = start;
    const ordinary = (end: number): boolean => {
      WORD.lastIndex = at;
      for (let m = WORD.exec(text); m !== null && m.index < end; m = WORD.exec(text)) {
        const wordEnd = Math.min(end, m.index + m[0].length);
        encodeWord(text.slice(m.index, wordEnd), out);
        at = wordEnd;
        if ((out.length >= limit || at >= stopAt) && at < text.length) return false;
        WORD.lastIndex = at;
      }
      at = end;
      return true;
    };
    SPECIAL_TEXT.lastIndex = start;
    for (let m = SPECIAL_TEXT.exec(text); m !== null; m = SPECIAL_TEXT.exec(text)) {
      if (m.index > at && !ordinary(m.index)) return at;
      out.push(SPECIALS[m[0]]!);
      at = m.index + m[0].length;
      if ((out.length >= limit || at >= stopAt) && at < text.length) return at;
      SPECIAL_TEXT.lastIndex = at;
    }
    if (at < text.length) ordinary(text.length);
    return at;
  };

  const cachedIds = (text: string): readonly number[] => {
    let ids = encodeCache.get(text);
    if (ids === undefined) {
      const fresh: number[] = [];
      encodeFrom(text, 0, fresh, Infinity, Infinity);
      ids = fresh;
      encodeCache.set(text, ids);
    }
    return ids;
  };

  return {
    family: 'mistral',
    dummyPrefix: true,
    encode: (text) => cachedIds(text).slice(),
    encodeInto(text, out, limit = Infinity) {
      const cached = encodeCache.get(text);
      if (cached === undefined && limit !== Infinity) {
        const start = out.length;
        if (encodeFrom(text, 0, out, limit, Infinity) < text.length) return false;
        encodeCache.set(text, out.slice(start));
        return true;
      }
      const ids = cached ?? cachedIds(text);
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
      return true;
    },
    async encodeIntoAsync(text, out, limit = Infinity) {
      const cached = encodeCache.get(text);
      if (cached !== undefined) {
        for (let i = 0; i < cached.length; i++) out.push(cached[i]!);
        return true;
      }
      const start = out.length;
      let at = 0;
      for (;;) {
        at = encodeFrom(text, at, out, limit, ENCODE_SLICE_CHARS);
        if (at >= text.length) break;
        if (out.length >= limit) return false;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      encodeCache.set(text, out.slice(start));
      return true;
    },
    ...decoder,
    // Mixtral-8x7B-Instruct-v0.1 generation_config.json: bos_token_id 1, eos_token_id 2.
    eosTokenIds: [2],
    bosTokenId: 1,
    cachedBytes: () => encodeCache.calculatedSize + wordCache.calculatedSize,
  };
}
