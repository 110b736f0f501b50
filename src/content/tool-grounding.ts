/**
 * Tool arguments grounded in the conversation: where a real model copies what the user said into
 * a call (`get_weather(city="Paris")` for "weather in Paris"), the simulated one does too, before
 * the seeded JSON generator fills the rest (tool-calls.ts `generateArguments`).
 *
 * What is read from the last user message, for top-level parameters of the tool's schema:
 * - a capitalised place name ("Paris", "New York") for a string parameter named like a place
 *   (city, location, place, destination, …); places listed together ("Paris, London and Tokyo")
 *   make one call each (tool-calls.ts), a route ("from Paris to London") one call with both ends,
 *   each in the parameter named for it (origin / from, destination / to);
 * - an ISO date (`2024-08-01`), else `today` / `tomorrow` / a weekday, for a parameter named like
 *   a date or with `format: date`: the phrase as written, or the date it names (counted from the
 *   chat template's `Today Date`, 26 Jul 2024, a Friday) where the schema wants a date;
 * - a number ("3", "three") for a numeric parameter named like a count (count, quantity, amount,
 *   days, guests, …);
 * - an `enum` value the message mentions, for any parameter with an enum.
 * A grounded value is used only when it validates against the parameter's schema (type, enum,
 * const, length, pattern, format, bounds, multipleOf); anything this check does not know (a
 * `$ref`, `anyOf`, another format) leaves the parameter to the generator.
 */
import { compileSafeRegex, safeExec } from './safe-regex.js';
import { asRecord, defineOwn, isRecord } from './json-schema-shape.js';

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

const PLACE_PARAM = /city|location|place|destination|town|country|region|origin|address|area/i;
/** Parameters for a route's ends: where it starts, where it goes. */
const ORIGIN_PARAM = /origin|from|source|depart|start/i;
const DESTINATION_PARAM = /destination|^dest|^to(?:_|$)|_to$|arriv/i;
const DATE_PARAM = /date|day|when/i;
const COUNT_PARAM =
  /count|quantity|qty|amount|number|num|limit|guests|people|persons|passengers|nights|days/i;

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

function isValidDate(iso: string): boolean {
  const time = Date.parse(`${iso}T00:00:00Z`);
  return Number.isFinite(time) && new Date(time).toISOString().slice(0, 10) === iso;
}

/** The top-level property schemas of a tool's parameters, or undefined when it has none. */
function topProperties(parameters: unknown): Record<string, unknown> | undefined {
  if (!isRecord(parameters)) return undefined;
  const properties = parameters['properties'];
  return isRecord(properties) ? properties : undefined;
}

/** The first top-level string parameter named like a place, for one call per place named. */
export function placeParameter(parameters: unknown): string | undefined {
  const properties = topProperties(parameters);
  if (properties === undefined) return undefined;
  return Object.keys(properties).find(
    (name) => PLACE_PARAM.test(name) && acceptsType(properties[name], 'string'),
  );
}

/**
 * Values for the tool's top-level parameters taken from the conversation, each valid against its
 * schema. `entity` picks which of the places named this call is about (0 = the first).
 */
export function groundArguments(
  parameters: unknown,
  facts: ConversationFacts,
  entity = 0,
): Record<string, unknown> {
  const properties = topProperties(parameters);
  const grounded: Record<string, unknown> = {};
  if (properties === undefined) return grounded;
  for (const [name, schema] of Object.entries(properties)) {
    for (const candidate of candidates(name, schema, facts, entity)) {
      if (fits(schema, candidate)) {
        defineOwn(grounded, name, candidate);
        break;
      }
    }
  }
  return grounded;
}

/** What the message offers for one parameter, best first. */
function candidates(name: string, schema: unknown, facts: ConversationFacts, entity: number): unknown[] {
  const out: unknown[] = [];
  const s = asRecord(schema);
  if (Array.isArray(s['enum'])) {
    for (const value of s['enum']) {
      if (typeof value === 'string' && mentions(facts.lower, value.toLowerCase())) out.push(value);
    }
    return out;
  }
  if (
    (PLACE_PARAM.test(name) || ORIGIN_PARAM.test(name) || DESTINATION_PARAM.test(name)) &&
    acceptsType(schema, 'string')
  ) {
    // A route's end for its parameter ("from Paris to London": origin Paris, destination London),
    // else the place this call is about: the entity-th of a list, or the first place named.
    const routeEnd = ORIGIN_PARAM.test(name)
      ? facts.route?.from
      : DESTINATION_PARAM.test(name)
        ? facts.route?.to
        : undefined;
    // "from Paris to London and Rome": the listed end is the one this call is about.
    const listed = routeEnd !== undefined && facts.placeList.includes(routeEnd);
    if (routeEnd !== undefined) out.push(listed ? (facts.placeList[entity] ?? routeEnd) : routeEnd);
    const place = facts.placeList[entity] ?? facts.places[0];
    if (place !== undefined && PLACE_PARAM.test(name)) out.push(place);
  }
  if ((DATE_PARAM.test(name) || s['format'] === 'date') && acceptsType(schema, 'string')) {
    if (facts.isoDate !== undefined) out.push(facts.isoDate);
    if (facts.dayPhrase !== undefined) {
      // A date-shaped parameter gets the date; a free-text one the words the user wrote.
      if (s['format'] === 'date' || s['pattern'] !== undefined) out.push(facts.dayPhrase.iso);
      else out.push(facts.dayPhrase.text, facts.dayPhrase.iso);
    }
  }
  if (COUNT_PARAM.test(name) && (acceptsType(schema, 'integer') || acceptsType(schema, 'number'))) {
    out.push(...facts.numbers);
  }
  return out;
}

/** `word` stands in `text` as a whole word (or phrase). */
function mentions(text: string, word: string): boolean {
  if (word === '') return false;
  let at = text.indexOf(word);
  while (at >= 0) {
    const before = at === 0 ? '' : text[at - 1]!;
    const after = text[at + word.length] ?? '';
    if (!/[\p{L}\p{N}_]/u.test(before) && !/[\p{L}\p{N}_]/u.test(after)) return true;
    at = text.indexOf(word, at + 1);
  }
  return false;
}

function acceptsType(schema: unknown, type: 'string' | 'integer' | 'number'): boolean {
  if (!isRecord(schema)) return false;
  const declared = schema['type'];
  const types = Array.isArray(declared) ? declared : [declared];
  if (types.includes(type)) return true;
  return type === 'integer' && types.includes('number');
}

/** Keywords whose meaning this check does not follow: a parameter using one is left to the generator. */
const UNFOLLOWED = ['$ref', 'anyOf', 'oneOf', 'allOf', 'not', 'if', '$dynamicRef'];
/** String formats a grounded value may have; any other format is left to the generator. */
const KNOWN_FORMATS: Readonly<Record<string, (value: string) => boolean>> = { date: isValidDateText };

function isValidDateText(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && isValidDate(value);
}

/** The value validates against `schema` (the subset above; unsure = no). */
export function fits(schema: unknown, value: unknown): boolean {
  if (!isRecord(schema)) return false;
  if (UNFOLLOWED.some((k) => schema[k] !== undefined)) return false;
  if ('const' in schema && schema['const'] !== value) return false;
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) return false;
  if (typeof value === 'string') return acceptsType(schema, 'string') && stringFits(schema, value);
  if (typeof value === 'number') {
    const type = Number.isInteger(value) ? 'integer' : 'number';
    return (acceptsType(schema, type) || acceptsType(schema, 'number')) && numberFits(schema, value);
  }
  return false;
}

function stringFits(schema: Record<string, unknown>, value: string): boolean {
  const length = [...value].length;
  if (typeof schema['minLength'] === 'number' && length < schema['minLength']) return false;
  if (typeof schema['maxLength'] === 'number' && length > schema['maxLength']) return false;
  const format = schema['format'];
  if (typeof format === 'string') {
    const check = KNOWN_FORMATS[format];
    if (check === undefined || !check(value)) return false;
  }
  const pattern = schema['pattern'];
  if (typeof pattern === 'string') {
    try {
      if (safeExec(compileSafeRegex(pattern, 'u'), value) === null) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function numberFits(schema: Record<string, unknown>, value: number): boolean {
  const num = (key: string) => (typeof schema[key] === 'number' ? (schema[key] as number) : undefined);
  const min = num('minimum');
  const max = num('maximum');
  if (min !== undefined && (value < min || (schema['exclusiveMinimum'] === true && value === min)))
    return false;
  if (max !== undefined && (value > max || (schema['exclusiveMaximum'] === true && value === max)))
    return false;
  const exMin = num('exclusiveMinimum');
  const exMax = num('exclusiveMaximum');
  if (exMin !== undefined && value <= exMin) return false;
  if (exMax !== undefined && value >= exMax) return false;
  const step = num('multipleOf');
  if (step !== undefined && step > 0) {
    const q = value / step;
    if (Math.abs(q - Math.round(q)) > 1e-9) return false;
  }
  return true;
}
