/**
 * Tool arguments grounded in the conversation: where a real model copies what the user said into
 * a call (`get_weather(city="Paris")` for "weather in Paris"), the simulated one does too, before
 * the seeded JSON generator fills the rest (tool-calls.ts `generateArguments`).
 *
 * What is read from the last user message (conversation-facts.ts), for top-level parameters of the
 * tool's schema:
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
import { isValidDate, type ConversationFacts } from './conversation-facts.js';

const PLACE_PARAM = /city|location|place|destination|town|country|region|origin|address|area/i;
/** Parameters for a route's ends: where it starts, where it goes. */
const ORIGIN_PARAM = /origin|from|source|depart|start/i;
const DESTINATION_PARAM = /destination|^dest|^to(?:_|$)|_to$|arriv/i;
const DATE_PARAM = /date|day|when/i;
const COUNT_PARAM =
  /count|quantity|qty|amount|number|num|limit|guests|people|persons|passengers|nights|days/i;

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
