/**
 * What a user message offers to ground tool arguments in (tool-grounding.ts): capitalised place
 * names, places listed together, a route's ends, an ISO date or a relative day, numbers, and the
 * lower-cased text for enum values — read once per message.
 */
/** What a message offers to ground arguments in, read once per message. */
export interface ConversationFacts {
  /** Capitalised place-like phrases, in order, without repeats. */
  readonly places: readonly string[];
  /**
   * Places listed together ("in Paris, London and Tokyo"), in order, without repeats; empty when
   * none are. A tool with a place parameter is called once per place of this list (tool-calls.ts).
   */
  readonly placeList: readonly string[];
  /** A route's ends ("from Paris to London"): one call with both, for origin/destination parameters. */
  readonly route?: { readonly from?: string | undefined; readonly to?: string | undefined } | undefined;
  /** The first ISO date written in the message. */
  readonly isoDate?: string | undefined;
  /** A relative day ("tomorrow", "Friday") as written, and the ISO date it names. */
  readonly dayPhrase?: { readonly text: string; readonly iso: string } | undefined;
  /** Numbers mentioned, in order (digits or the words one to twelve). */
  readonly numbers: readonly number[];
  /** The message lower-cased, for enum values. */
  readonly lower: string;
}

/** The chat template's `Today Date` (chat-template.ts): what "today" means to the model. */
const TODAY_UTC = Date.UTC(2024, 6, 26);
const DAY_MS = 86_400_000;
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const NUMBER_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];
/** Capitalised words that are not places: question words, greetings, pronouns, units. */
const NOT_PLACES = new Set(
  (
    'i im ive id what whats which who whom whose when where why how is are was were can could would should ' +
    'will do does did please tell give show find get check book and or but the a an my your our hi hello ' +
    'hey thanks thank ok okay yes no celsius fahrenheit kelvin today tomorrow tonight yesterday next this'
  ).split(' '),
);

let lastFacts: { readonly text: string; readonly facts: ConversationFacts } | undefined;

/** The facts of `message`, kept for the next call (every tool of a request reads the same message). */
export function conversationFacts(message: string): ConversationFacts {
  if (lastFacts?.text === message) return lastFacts.facts;
  const facts = readFacts(message);
  lastFacts = { text: message, facts };
  return facts;
}

/** Past this, a message is read on its first part only: grounding looks for a few short phrases. */
const MAX_READ_CHARS = 16_384;

function readFacts(message: string): ConversationFacts {
  const text = message.length > MAX_READ_CHARS ? message.slice(0, MAX_READ_CHARS) : message;
  const isoDate = /\b(\d{4}-\d{2}-\d{2})\b/.exec(text)?.[1];
  const mentions = placeMentions(text);
  return {
    places: distinct(mentions.map((m) => m.name)),
    placeList: placeListOf(text, mentions),
    route: routeOf(text, mentions),
    isoDate: isoDate !== undefined && isValidDate(isoDate) ? isoDate : undefined,
    dayPhrase: dayPhraseOf(text),
    numbers: numbersOf(text),
    lower: text.toLowerCase(),
  };
}

/** A place phrase where it stands in the message. */
interface PlaceMention {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/**
 * Capitalised phrases that are not a sentence's first word: "What is the weather in Paris and New
 * York?" gives Paris and New York. Weekdays, months and the words above are not places.
 */
function placeMentions(text: string): PlaceMention[] {
  const out: PlaceMention[] = [];
  for (const m of text.matchAll(/\p{Lu}[\p{L}'’.-]*(?:[ \t]+\p{Lu}[\p{L}'’.-]*)*/gu)) {
    // Each word with its offset in the message, its trailing punctuation cut.
    let words = [...m[0].matchAll(/[^ \t]+/g)].map((w) => {
      const word = w[0].replace(/[.'’-]+$/, '');
      return { word, start: m.index + w.index, end: m.index + w.index + word.length };
    });
    if (sentenceStart(text, m.index)) words = words.slice(1);
    words = words.filter((w) => w.word !== '');
    // A phrase is cut where a word that is not a place stands in it ("Is London" → London).
    let phrase: typeof words = [];
    const flush = () => {
      if (phrase.length > 0) {
        const name = phrase.map((w) => w.word).join(' ');
        out.push({ name, start: phrase[0]!.start, end: phrase[phrase.length - 1]!.end });
      }
      phrase = [];
    };
    for (const w of words) {
      const lower = w.word.toLowerCase().replace(/['’]/g, '');
      if (NOT_PLACES.has(lower) || WEEKDAYS.includes(lower) || MONTHS.includes(lower) || w.word.length < 2) {
        flush();
      } else {
        phrase.push(w);
      }
    }
    flush();
  }
  return out;
}

/** Names in order, each once. */
function distinct(names: readonly string[]): string[] {
  return [...new Set(names)];
}

/**
 * What stands between two places of a list: a comma, `and`, `or`, `&` (", and" too), the
 * preposition perhaps repeated ("in Paris and in London"). "from Paris to London" is no list.
 */
const LIST_SEPARATOR = /^\s*(?:,\s*(?:(?:and|or|&)\s+)?|(?:and|or|&)\s+|\/\s*)(?:(?:in|at|for)\s+)?$/i;

/**
 * The longest run of places listed together ("Paris, London and Tokyo"), each once; empty when no
 * two places are listed together. Only such a list asks for one call per place.
 */
function placeListOf(text: string, mentions: readonly PlaceMention[]): string[] {
  let best: string[] = [];
  let run: string[] = [];
  mentions.forEach((m, i) => {
    const previous = mentions[i - 1];
    const listed = previous !== undefined && LIST_SEPARATOR.test(text.slice(previous.end, m.start));
    run = listed ? [...run, m.name] : [m.name];
    const names = distinct(run);
    if (names.length > best.length) best = names;
  });
  return best.length >= 2 ? best : [];
}

/** The word right before `at` (lower case), or ''. */
function wordBefore(text: string, at: number): string {
  return /([\p{L}]+)\s*$/u.exec(text.slice(Math.max(0, at - 24), at))?.[1]?.toLowerCase() ?? '';
}

/** The places a route names: the one after `from`, the one after `to` ("from Paris to London"). */
function routeOf(text: string, mentions: readonly PlaceMention[]): ConversationFacts['route'] {
  const from = mentions.find((m) => wordBefore(text, m.start) === 'from')?.name;
  const to = mentions.find((m) => ['to', 'into', 'towards'].includes(wordBefore(text, m.start)))?.name;
  return from !== undefined || to !== undefined ? { from, to } : undefined;
}

function sentenceStart(text: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (text[i] === ' ' || text[i] === '\t' || text[i] === '"' || text[i] === '(')) i--;
  return i < 0 || /[.!?\n\r:]/.test(text[i]!);
}

function dayPhraseOf(text: string): ConversationFacts['dayPhrase'] {
  const m =
    /\b(today|tomorrow|(?:next\s+)?(?:sunday|monday|tuesday|wednesday|thursday|friday|saturday))\b/i.exec(
      text,
    );
  if (m === null) return undefined;
  const phrase = m[1]!;
  const lower = phrase.toLowerCase();
  let offset: number;
  if (lower === 'today') offset = 0;
  else if (lower === 'tomorrow') offset = 1;
  else {
    const day = WEEKDAYS.indexOf(lower.replace(/^next\s+/, ''));
    const today = new Date(TODAY_UTC).getUTCDay();
    // The coming one: "Friday" on a Friday is a week ahead, as a person means it.
    offset = (day - today + 7) % 7 || 7;
  }
  return { text: phrase, iso: new Date(TODAY_UTC + offset * DAY_MS).toISOString().slice(0, 10) };
}

function numbersOf(text: string): number[] {
  const out: number[] = [];
  // Digits that are not part of a date, a time or a longer token ("2024-08-01", "10:30", "A320").
  const re = new RegExp(
    `(?<![\\w.:-])(\\d+(?:\\.\\d+)?)(?![\\w:-]|\\.\\d)|\\b(${NUMBER_WORDS.join('|')})\\b`,
    'gi',
  );
  for (const m of text.matchAll(re)) {
    if (m[1] !== undefined) out.push(Number(m[1]));
    else out.push(NUMBER_WORDS.indexOf(m[2]!.toLowerCase()));
    if (out.length >= 16) break;
  }
  return out;
}

export function isValidDate(iso: string): boolean {
  const time = Date.parse(`${iso}T00:00:00Z`);
  return Number.isFinite(time) && new Date(time).toISOString().slice(0, 10) === iso;
}
