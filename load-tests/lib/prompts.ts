/**
 * Synthetic prompt text of an exact Llama 3 token count. Every word in the pool is one token when
 * preceded by a space (checked against the real tokenizer when the pool is built), and Llama 3's
 * pre-tokenizer splits text at each ` word`, so n such words are exactly n tokens — no round trip
 * to the server's `/tokenize` is needed. The chat template adds its own tokens around each
 * message, so reports show the input length the server billed (`usage.prompt_tokens`).
 */
import { createRandom, hashSeed, type SeedPart } from '../../src/util/random.js';
import { createTokenizer } from '../../src/content/tokenizer.js';

const CANDIDATES = (
  'the of and to in is was for that on as with by he at from his an were are which this be or ' +
  'has had not but first one their its new after who they have her she two been other when there ' +
  'all during into school time may years more most only over city some world would where later up ' +
  'such used many can state about national out known university united then made than company ' +
  'under film team while three season since year would people being these between both through ' +
  'home well water light river green house table window paper garden market music story field ' +
  'morning evening summer winter mountain island forest village road bridge train ship letter ' +
  'book song game picture stone glass fire wind rain snow cloud star moon sun tree flower bird ' +
  'horse dog cat fish animal child family friend teacher doctor king queen church castle tower ' +
  'wall door floor room kitchen bed chair car bus plane boat engine machine computer phone ' +
  'network system model data value number line point group order level power energy force ' +
  'price cost money bank trade work job office meeting plan project report result problem ' +
  'question answer idea reason method process design test study research theory history ' +
  'language word name voice sound color shape size weight speed distance area space place'
).split(' ');

/** The words of `CANDIDATES` that are a single Llama 3 token with a leading space. */
function buildPool(): readonly string[] {
  const tokenizer = createTokenizer('llama3');
  const seen = new Set<string>();
  const pool: string[] = [];
  for (const w of CANDIDATES) {
    if (w === '' || seen.has(w)) continue;
    seen.add(w);
    if (tokenizer.encode(` ${w}`).length === 1) pool.push(w);
  }
  if (pool.length < 64) throw new Error(`prompt word pool too small (${pool.length})`);
  return pool;
}

let pool: readonly string[] | undefined;

/**
 * Text of exactly `tokens` Llama 3 tokens, seeded by `seedParts` (the same parts give the same
 * text; different parts give text that differs from its first word, so two prompts share no
 * accidental prefix).
 */
export function promptText(tokens: number, ...seedParts: SeedPart[]): string {
  if (!Number.isInteger(tokens) || tokens < 0) throw new RangeError(`token count must be ≥ 0, got ${tokens}`);
  pool ??= buildPool();
  const rng = createRandom(hashSeed(...seedParts));
  let out = '';
  for (let i = 0; i < tokens; i++) out += ` ${pool[rng.nextInt(pool.length)]!}`;
  return out;
}

/**
 * The text of a Mooncake `hash_ids` prompt: block `id` is the same `blockTokens` tokens of text
 * wherever a prompt names it (a shorter last block is its start), so two prompts share exactly the
 * tokens their ids share, as `simulate --trace` builds them in token ids. A prompt longer than its
 * ids is finished with text of its own (`ownSeed`).
 */
export function hashIdText(
  ids: readonly number[],
  inputTokens: number,
  blockTokens: number,
  seed: number,
  ...ownSeed: SeedPart[]
): string {
  let out = '';
  let length = 0;
  for (const id of ids) {
    if (length >= inputTokens) break;
    const n = Math.min(blockTokens, inputTokens - length);
    out += promptText(n, seed, 'hash-block', id);
    length += n;
  }
  return out + promptText(inputTokens - length, seed, ...ownSeed);
}
