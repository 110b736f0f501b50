/**
 * gpt-oss's tokenizer, o200k_harmony: o200k_base's byte-level BPE (its ranks as `js-tiktoken`
 * ships them) with Harmony's special tokens — `<|start|>`, `<|channel|>`, `<|message|>`, `<|end|>`,
 * `<|return|>`, `<|call|>`, … and the reserved ids up to 201,087 (openai/tiktoken
 * `tiktoken_ext/openai_public.py`, `o200k_harmony`; the model's config.json has vocab_size
 * 201,088).
 *
 * tiktoken merges the adjacent pair whose concatenation has the lowest rank, leftmost first, and a
 * pre-token that is itself a token stays whole: that is Hugging Face's BPE with a merge list ranked
 * by the merged token, so bpe.ts runs it unchanged, the merge of two pieces being the rank of
 * their concatenation.
 */
import { createRequire } from 'node:module';
import { byteLevelChars } from './bpe.js';
import type { ByteLevelSpec } from './tokenizer.js';

interface TiktokenRanks {
  readonly pat_str: string;
  /** Lines `<first token b64> <offset> <token b64>…`: tokens of consecutive ranks from `offset`. */
  readonly bpe_ranks: string;
}

/** o200k_base's regular tokens are ranks 0–199,997; Harmony's specials follow. */
const FIRST_SPECIAL_ID = 199_998;
const VOCAB_SIZE = 201_088;

/** Harmony's named special tokens; every other id from 200,000 is `<|reserved_N|>`. */
const NAMED_SPECIALS: Readonly<Record<string, number>> = {
  '<|startoftext|>': 199_998,
  '<|endoftext|>': 199_999,
  '<|return|>': 200_002,
  '<|constrain|>': 200_003,
  '<|channel|>': 200_005,
  '<|start|>': 200_006,
  '<|end|>': 200_007,
  '<|message|>': 200_008,
  '<|call|>': 200_012,
  '<|endofprompt|>': 200_018,
};

let spec: ByteLevelSpec | undefined;

/**
 * The o200k_harmony tables, built on first use (about a second: 200k base64 tokens) and kept for
 * the process. `createRequire` loads the CommonJS build of the ranks synchronously, keeping
 * `createTokenizer` synchronous; a server that does not serve gpt-oss never loads them.
 */
export function loadO200kHarmony(): ByteLevelSpec {
  if (spec !== undefined) return spec;
  const load = createRequire(import.meta.url);
  const ranks = load('js-tiktoken/ranks/o200k_base') as { default?: TiktokenRanks } & TiktokenRanks;
  const { pat_str: pattern, bpe_ranks: packed } = ranks.default ?? ranks;
  const byteChar = byteLevelChars();
  const vocabById: string[] = new Array<string>(VOCAB_SIZE);
  const vocabByString = new Map<string, number>();
  for (const line of packed.split('\n')) {
    if (line === '') continue;
    const [, offsetText, ...tokens] = line.split(' ');
    const offset = Number.parseInt(offsetText!, 10);
    tokens.forEach((token, i) => {
      let text = '';
      for (const byte of Buffer.from(token, 'base64')) text += byteChar[byte];
      vocabById[offset + i] = text;
      vocabByString.set(text, offset + i);
    });
  }
  const specialIds = new Map<string, number>(Object.entries(NAMED_SPECIALS));
  const named = new Set(specialIds.values());
  // Id 200,018 is both <|endofprompt|> and <|reserved_200018|>; it decodes as the former.
  for (let id = 200_000; id < VOCAB_SIZE; id++) {
    if (!named.has(id) || id === 200_018) specialIds.set(`<|reserved_${id}|>`, id);
    if (!named.has(id)) vocabById[id] = `<|reserved_${id}|>`;
  }
  for (const [text, id] of Object.entries(NAMED_SPECIALS)) vocabById[id] = text;
  spec = {
    family: 'o200k',
    tables: {
      vocabById,
      vocabByString,
      // A pair merges when its concatenation is a token, at that token's rank (see the module comment).
      merges: {
        get: (pair: string) => vocabByString.get(pair.replace(' ', '')),
      } as ReadonlyMap<string, number>,
    },
    pretokenizer: new RegExp(pattern, 'gu'),
    specialText: /<\|[a-z_0-9]+\|>/g,
    specialId: (text) => specialIds.get(text),
    firstSpecialId: FIRST_SPECIAL_ID,
    // gpt-oss's generation_config.json: eos_token_id [200002, 199999, 200012] (<|return|> first:
    // a finished answer ends with it; <|call|> ends a tool call in Harmony).
    eosTokenIds: [200_002, 199_999, 200_012],
    // Harmony prompts start with <|start|>; the tokenizer adds no BOS.
    bosTokenId: undefined,
  };
  return spec;
}
