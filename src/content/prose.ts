/**
 * Seeded English-like prose, produced directly as token ids. A word-level Markov chain (order two,
 * with order-one steps mixed in for variety) walks an embedded corpus written for this project.
 *
 * Text is built from units that are whole pre-tokens of the Llama 3 tokenizer — a word with its
 * leading space (` river`), a capitalised sentence opener, a punctuation mark, or a sentence end
 * fused with a paragraph break (`.\n\n`, which the pre-tokenizer keeps together). Each unit is
 * encoded once and memoised; because units never straddle a pre-token boundary, the concatenated
 * ids equal `encode(decode(ids))`, which is what lets the next turn's prompt hit the KV blocks of
 * this answer. The corpus therefore holds only lowercase ASCII words and `, . ? !`.
 */
import { createRandom, type Random } from '../util/random.js';
import type { Tokenizer } from './tokenizer.js';

/** One step of the text: a whole pre-token, its ids, and whether it closes a sentence. */
export interface ProseUnit {
  readonly text: string;
  readonly ids: readonly number[];
  readonly endsSentence: boolean;
}

export interface ProseStream {
  /**
   * The next unit. `maxTokens` (≥ 1) is the room left: a unit that would not fit is swapped for
   * one that does, so an exact-length output ends on whole units. `endSoon` asks the chain to
   * close the current sentence at its next chance and suppresses paragraph breaks.
   */
  next(opts: { readonly maxTokens: number; readonly endSoon: boolean }): ProseUnit;
}

export interface ProseGenerator {
  /** A fresh stream; the same seed gives the same units. `leadingSpace` for text that continues. */
  stream(seed: number, opts?: { readonly leadingSpace?: boolean }): ProseStream;
  /** Roughly `tokens` tokens of prose ending with a sentence, as text and ids. */
  generate(seed: number, tokens: number): { readonly text: string; readonly ids: readonly number[] };
  /** Every lowercase word the generator can emit. */
  readonly vocabulary: ReadonlySet<string>;
}

const CORPUS = `
The morning train was late again, so the passengers waited on the cold platform and watched the clouds move
slowly over the hills. A small cache keeps the most recent answers close to the processor, which saves a long
trip to the main memory. When the bread comes out of the oven, it should rest for a while before anyone cuts
it, because the inside is still cooking. Good software is tested in small pieces first, and then the pieces
are tested together under a realistic load. The river was high after the storm, and the old bridge shook a
little whenever a heavy truck crossed it. Every request waits in a queue until the scheduler finds enough
memory for it, and then it joins the running batch. She planted tomatoes along the south wall of the garden,
where the afternoon sun stays the longest. A good map shows the shape of the land, the roads between the
towns, and the places where water can be found. The team measured the time to the first token, the time
between tokens, and the total time of each request. Why does the kettle sing just before the water boils? The
answer has to do with small bubbles that form and collapse near the bottom of the pot. Most of the library is
quiet in the evening, but the reading room stays open until late for students who need a calm place to work.
The graphics processor reads the model weights from its memory once for every step, so a larger batch shares
that cost among more requests. A bicycle needs very little care, although the chain should be cleaned and oiled
after a wet ride. The weather changed quickly in the afternoon, and a strong wind pushed the rain across the
fields. When the cache is full, the least recently used block is removed to make room for a new one. Music
sounds different in a large hall, because the walls return the sound a moment later and blend it with the
next note. The engineer wrote a short note that explained the reason for the change, which helped the
reviewers understand it quickly. A long walk after dinner is a simple habit that helps many people sleep
better at night. The battery lasts longer when it is kept cool and is not charged to the very top every day.
Is the new design faster than the old one? The only honest way to know is to measure both under the same
conditions and compare the results. The village market opens early on the weekend, and the farmers bring fresh
eggs, honey, apples, and warm bread. A network connection can fail at any moment, so a careful client retries
with a growing delay and gives up after a few attempts. The children built a small boat from paper and sailed
it across the pond until it slowly sank. Each block of the prompt is identified by a hash of its tokens and of
every block before it, so two prompts share blocks only while they share the same beginning. The soup tasted
better on the second day, after the flavors had time to settle and mix. A clear error message tells the user
what went wrong and what they can do about it, without making them guess. The museum keeps its oldest maps in
a dark room, because strong light slowly fades the ink. When many people arrive at once, the waiting line grows,
and the time before the first answer grows with it. A healthy forest has trees of many ages, from young shoots
on the ground to tall trunks that are older than the town. The recipe calls for a little salt, a spoon of
butter, and enough flour to make the dough firm but soft. Some problems look hard only because they are large,
and they become simple once they are split into smaller parts. The lighthouse still turns its lamp every night,
even though most ships now find their way with satellites. Memory is the scarce resource in a busy server, and
the scheduler spends it carefully on the requests that can make progress. The old clock in the hall gained a
few minutes every week, so someone set it back each sunday morning. A fast answer is pleasant, but a correct
answer is what people remember. The students compared two ways to sort a list and found that the simple method
was quicker for short lists and slower for long ones. Snow covered the roads during the night, and the first
buses of the morning moved slowly through the quiet streets. A model with more layers needs more memory for its
weights and for the keys and values of every token it has seen. The painter mixed a deep blue for the sea and a
pale gray for the sky, and then she waited for the light to change. What happens to the extra heat inside a
busy machine? Fans and cold plates carry it away, and the building must remove it again from the air. The
garden was full of bees in early summer, when the fruit trees were in flower. Simple tools often last the
longest, because there is less in them that can break. The report listed the median, the slowest tenth, and
the slowest hundredth of all the measured times. A shared prefix lets many requests skip the same work, which
is why long system prompts become cheap after the first request. The baker starts work before dawn, long before
the first customers open the door. Clean water, good food, and enough sleep do more for health than most
expensive remedies. When the numbers did not match, the team checked the units first, and the mistake was found
within a minute. Old roads often follow the paths that animals made long ago across the valley. The ferry
carries cars, bicycles, and people across the bay every hour from spring to autumn. A careful reader checks
the sources of a claim before repeating it to others. The server kept serving while the new version started,
and then it moved the traffic over without dropping a single request.
`;

const SENTENCE_ENDS = new Set(['.', '?', '!']);
const PUNCTUATION = new Set([',', ...SENTENCE_ENDS]);
/** Chance of an order-one step: enough to leave the corpus's sentences, few enough to stay fluent. */
const ORDER_ONE_CHANCE = 0.2;
const PARAGRAPH_CHANCE = 0.18;
const MIN_SENTENCES_PER_PARAGRAPH = 2;
/** Sentence lengths in words past which the chain closes the sentence at its next chance / at once. */
const LONG_SENTENCE_WORDS = 28;
const MAX_SENTENCE_WORDS = 48;
/** Once asked to end, a sentence still gets at least this many words. */
const MIN_CLOSING_WORDS = 4;
/** Single-token corpus words used when nothing the chain offers fits the room left. */
const FILLERS = ['and', 'the', 'of', 'to', 'a'];

/** A chain state: a word or punctuation mark, its successors, and its memoised renderings. */
interface Entry {
  readonly token: string;
  readonly isWord: boolean;
  readonly endsSentence: boolean;
  /** Order-one successors (with repeats, so frequent ones are likelier). */
  readonly next: Entry[];
  /** Order-two successors, by the entry before this one. */
  readonly nextAfter: Map<Entry, Entry[]>;
  /** Renderings: [mid-sentence ` word`, sentence opener ` Word`, paragraph opener `Word`]. */
  readonly units: (ProseUnit | undefined)[];
}

interface Chain {
  readonly start: Entry;
  readonly period: Entry;
  readonly fillers: readonly Entry[];
  readonly vocabulary: ReadonlySet<string>;
}

/** Builds the generator for `tokenizer`; cheap (the chain has a few thousand links). */
export function createProseGenerator(tokenizer: Tokenizer): ProseGenerator {
  const chain = buildChain(CORPUS);

  const stream = (seed: number, opts?: { readonly leadingSpace?: boolean }): ProseStream =>
    new ChainWalk(chain, tokenizer, createRandom(seed), opts?.leadingSpace === true);

  return {
    stream,
    generate(seed, tokens) {
      const source = stream(seed);
      const ids: number[] = [];
      let text = '';
      for (;;) {
        const next = source.next({ maxTokens: Number.MAX_SAFE_INTEGER, endSoon: ids.length >= tokens });
        ids.push(...next.ids);
        text += next.text;
        if (next.endsSentence && ids.length >= tokens) return { text, ids };
      }
    },
    vocabulary: chain.vocabulary,
  };
}

/**
 * One stream's walk over the chain. A class (one per planned output, so per request): its methods
 * live on the prototype instead of four closures per stream.
 */
class ChainWalk implements ProseStream {
  private prev2: Entry;
  private prev1: Entry;
  private wordsInSentence = 0;
  private sentencesInParagraph = 0;

  constructor(
    private readonly chain: Chain,
    private readonly tokenizer: Tokenizer,
    private readonly rng: Random,
    private spaceBefore: boolean,
  ) {
    this.prev2 = chain.start;
    this.prev1 = chain.start;
  }

  next({ maxTokens, endSoon }: { readonly maxTokens: number; readonly endSoon: boolean }): ProseUnit {
    const { chain, rng, prev1 } = this;
    const useFirst = prev1 !== chain.start && rng.nextFloat() < ORDER_ONE_CHANCE;
    const candidates = (useFirst ? undefined : prev1.nextAfter.get(this.prev2)) ?? prev1.next;
    let entry =
      candidates.length > 0 ? (candidates[rng.nextInt(candidates.length)] ?? chain.period) : chain.period;
    const words = this.wordsInSentence;
    const wantsEnd = words >= (endSoon ? MIN_CLOSING_WORDS : LONG_SENTENCE_WORDS);
    if (wantsEnd || words >= MAX_SENTENCE_WORDS) {
      const closing = prev1.next.find((next) => next.endsSentence);
      if (closing !== undefined) entry = closing;
      else if (words >= MAX_SENTENCE_WORDS) entry = chain.period;
    }
    let unit = this.render(entry, endSoon);
    if (unit.ids.length >= maxTokens && unit.text.endsWith('\n')) {
      // Never end an exact-length output on a paragraph break: the chat template trims it away
      // when the answer comes back as history, and the ids would no longer match.
      unit = this.render(entry, true);
    }
    if (unit.ids.length > maxTokens) {
      for (const option of [...candidates, ...chain.fillers]) {
        const smaller = this.render(option, endSoon);
        if (smaller.ids.length <= maxTokens) {
          entry = option;
          unit = smaller;
          break;
        }
      }
    }
    this.advance(entry, unit);
    return unit;
  }

  private render(entry: Entry, endSoon: boolean): ProseUnit {
    let form = 0;
    if (!entry.isWord) {
      const breakParagraph =
        entry.endsSentence &&
        !endSoon &&
        this.sentencesInParagraph + 1 >= MIN_SENTENCES_PER_PARAGRAPH &&
        this.rng.nextFloat() < PARAGRAPH_CHANCE;
      form = breakParagraph ? 1 : 0;
    } else if (this.wordsInSentence === 0) {
      form = this.spaceBefore ? 1 : 2;
    }
    let unit = entry.units[form];
    if (unit === undefined) {
      const text = entry.isWord
        ? wordForm(entry.token, form)
        : form === 1
          ? `${entry.token}\n\n`
          : entry.token;
      unit = { text, ids: this.tokenizer.encode(text), endsSentence: entry.endsSentence };
      entry.units[form] = unit;
    }
    return unit;
  }

  private advance(entry: Entry, unit: ProseUnit): void {
    if (entry.endsSentence) {
      this.prev2 = this.chain.start;
      this.prev1 = this.chain.start;
      this.wordsInSentence = 0;
      const paragraphEnds = unit.text.endsWith('\n');
      this.sentencesInParagraph = paragraphEnds ? 0 : this.sentencesInParagraph + 1;
      this.spaceBefore = !paragraphEnds;
    } else {
      this.prev2 = this.prev1;
      this.prev1 = entry;
      if (entry.isWord) this.wordsInSentence++;
      this.spaceBefore = true;
    }
  }
}

function wordForm(word: string, form: number): string {
  if (form === 0) return ` ${word}`;
  const capitalised = word.charAt(0).toUpperCase() + word.slice(1);
  return form === 1 ? ` ${capitalised}` : capitalised;
}

function buildChain(corpus: string): Chain {
  const entries = new Map<string, Entry>();
  const entryOf = (token: string): Entry => {
    let entry = entries.get(token);
    if (entry === undefined) {
      const isWord = !PUNCTUATION.has(token);
      entry = {
        token,
        isWord,
        endsSentence: SENTENCE_ENDS.has(token),
        next: [],
        nextAfter: new Map(),
        units: [],
      };
      entries.set(token, entry);
    }
    return entry;
  };
  // The start state is no token; an empty token cannot collide with a word.
  const start = entryOf('');
  let prev2 = start;
  let prev1 = start;
  for (const token of corpus.toLowerCase().match(/[a-z]+|[,.?!]/g) ?? []) {
    const entry = entryOf(token);
    let after = prev1.nextAfter.get(prev2);
    if (after === undefined) prev1.nextAfter.set(prev2, (after = []));
    after.push(entry);
    if (prev1 !== start) prev1.next.push(entry);
    [prev2, prev1] = entry.endsSentence ? [start, start] : [prev1, entry];
  }
  // The start state's order-one successors are its order-two ones (it has no other history).
  start.next.push(...(start.nextAfter.get(start) ?? []));
  const vocabulary = new Set(
    [...entries.values()].filter((e) => e.isWord && e !== start).map((e) => e.token),
  );
  return { start, period: entryOf('.'), fillers: FILLERS.map(entryOf), vocabulary };
}
