import { describe, expect, it } from 'vitest';
import { generateArguments } from '../../src/content/tool-calls.js';
import { conversationFacts } from '../../src/content/conversation-facts.js';
import { fits, groundArguments, placeParameter } from '../../src/content/tool-grounding.js';
import { createValidator } from '../helpers/ajv.js';

const WEATHER = {
  type: 'object',
  properties: {
    city: { type: 'string', minLength: 2 },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    date: { type: 'string', format: 'date' },
    days: { type: 'integer', minimum: 1, maximum: 14 },
  },
  required: ['city'],
  additionalProperties: false,
};

describe('conversation facts', () => {
  it('finds capitalised places, not sentence openers, question words or weekdays', () => {
    const facts = conversationFacts('What is the weather in Paris and New York on Monday? Is London warmer?');
    expect(facts.places).toEqual(['Paris', 'New York', 'London']);
  });

  it('reads ISO dates, relative days from the template date (Fri 26 Jul 2024) and numbers', () => {
    expect(conversationFacts('Flights on 2024-08-03 for 2 people').isoDate).toBe('2024-08-03');
    expect(conversationFacts('Flights on 2024-08-03 for 2 people').numbers).toEqual([2]);
    expect(conversationFacts('weather tomorrow').dayPhrase).toEqual({ text: 'tomorrow', iso: '2024-07-27' });
    expect(conversationFacts('rain on Monday?').dayPhrase).toEqual({ text: 'Monday', iso: '2024-07-29' });
    // Today is a Friday: "Friday" is the coming one, a week on.
    expect(conversationFacts('Friday please').dayPhrase?.iso).toBe('2024-08-02');
    expect(conversationFacts('book three rooms at 10:30').numbers).toEqual([3]);
    expect(conversationFacts('not a date: 2024-02-30').isoDate).toBe(undefined);
  });
});

describe('places listed together, and routes', () => {
  it('lists places joined by commas, and, or (the preposition may repeat), not by to or a new sentence', () => {
    expect(conversationFacts('Weather in Paris, London and Tokyo').placeList).toEqual([
      'Paris',
      'London',
      'Tokyo',
    ]);
    expect(conversationFacts('Weather in Paris, London, and Tokyo?').placeList).toEqual([
      'Paris',
      'London',
      'Tokyo',
    ]);
    expect(conversationFacts('Is it warmer in Rome or in New York?').placeList).toEqual(['Rome', 'New York']);
    expect(conversationFacts('Drive from Paris to London').placeList).toEqual([]);
    expect(conversationFacts('Weather in Paris. Is London warmer?').placeList).toEqual([]);
    expect(conversationFacts('Weather in Paris').placeList).toEqual([]);
    // The longest list wins; a repeated name counts once.
    expect(conversationFacts('From Lyon to Paris and Paris and Nice').placeList).toEqual(['Paris', 'Nice']);
  });

  it('reads a route: the place after from, the place after to', () => {
    expect(conversationFacts('Trains from Paris to London tomorrow').route).toEqual({
      from: 'Paris',
      to: 'London',
    });
    expect(conversationFacts('How far is it to Rome?').route).toEqual({ from: undefined, to: 'Rome' });
    expect(conversationFacts('Weather in Paris and London').route).toBe(undefined);
  });

  const ROUTE = {
    type: 'object',
    properties: { origin: { type: 'string' }, destination: { type: 'string' }, date: { type: 'string' } },
    required: ['origin', 'destination'],
  };

  it('puts both ends of a route in one call, each in its own parameter', () => {
    const facts = conversationFacts('Book a train from Paris to London on 2024-08-03');
    expect(groundArguments(ROUTE, facts)).toEqual({
      origin: 'Paris',
      destination: 'London',
      date: '2024-08-03',
    });
    const fromTo = {
      type: 'object',
      properties: { from_city: { type: 'string' }, to_city: { type: 'string' } },
    };
    expect(groundArguments(fromTo, facts)).toEqual({ from_city: 'Paris', to_city: 'London' });
    // A single place parameter takes the first place, as before.
    expect(groundArguments(WEATHER, facts)['city']).toBe('Paris');
  });

  it('calls a route once per listed destination', () => {
    const facts = conversationFacts('Flights from Paris to London and Rome');
    expect(facts.placeList).toEqual(['London', 'Rome']);
    expect([0, 1].map((entity) => groundArguments(ROUTE, facts, entity))).toEqual([
      { origin: 'Paris', destination: 'London' },
      { origin: 'Paris', destination: 'Rome' },
    ]);
  });
});

describe('groundArguments', () => {
  it('fills a place, an enum value, a date and a count from the message', () => {
    const facts = conversationFacts('Weather in Oslo in fahrenheit tomorrow, for 3 days');
    expect(groundArguments(WEATHER, facts)).toEqual({
      city: 'Oslo',
      unit: 'fahrenheit',
      date: '2024-07-27',
      days: 3,
    });
  });

  it('takes the place the call is about', () => {
    const facts = conversationFacts('Compare the weather in Paris, London and Tokyo');
    expect([0, 1, 2].map((entity) => groundArguments(WEATHER, facts, entity)['city'])).toEqual([
      'Paris',
      'London',
      'Tokyo',
    ]);
    expect(placeParameter(WEATHER)).toBe('city');
    expect(placeParameter({ type: 'object', properties: { q: { type: 'string' } } })).toBe(undefined);
  });

  it('leaves out what would not validate: a count out of range, a place against a pattern, a phrase for a date', () => {
    const schema = {
      type: 'object',
      properties: {
        city: { type: 'string', pattern: '^[A-Z]{3}$' },
        days: { type: 'integer', maximum: 14 },
        when: { type: 'string', format: 'date-time' },
      },
    };
    expect(groundArguments(schema, conversationFacts('Weather in Paris for 30 days on Monday'))).toEqual({});
    // A free-text date parameter gets the words as written.
    const free = { type: 'object', properties: { day: { type: 'string' } } };
    expect(groundArguments(free, conversationFacts('Weather in Paris on Monday'))).toEqual({ day: 'Monday' });
  });

  it('fits follows type, bounds, multipleOf, length, const and leaves unknown keywords alone', () => {
    expect(fits({ type: 'integer', minimum: 1 }, 2)).toBe(true);
    expect(fits({ type: 'integer' }, 2.5)).toBe(false);
    expect(fits({ type: 'number', exclusiveMaximum: 2 }, 2)).toBe(false);
    expect(fits({ type: 'number', multipleOf: 0.5 }, 2.5)).toBe(true);
    expect(fits({ type: 'number', multipleOf: 2 }, 3)).toBe(false);
    expect(fits({ type: 'string', maxLength: 3 }, 'Oslo')).toBe(false);
    expect(fits({ type: ['string', 'null'] }, 'Oslo')).toBe(true);
    expect(fits({ const: 'x' }, 'y')).toBe(false);
    expect(fits({ $ref: '#/$defs/city' }, 'Oslo')).toBe(false);
    expect(fits({ type: 'string', format: 'email' }, 'Oslo')).toBe(false);
    expect(fits({ type: 'string', pattern: '(a+)+$' }, 'aaaa')).toBe(false);
  });
});

describe('generateArguments with grounding', () => {
  it('keeps the seeded generator for the rest, valid against the schema over 100 seeds', () => {
    const validate = createValidator().compile(WEATHER);
    const tool = { name: 'get_weather', parameters: WEATHER };
    for (let seed = 0; seed < 100; seed++) {
      const { text, truncated } = generateArguments(tool, seed, 10_000, {
        message: 'Weather in Reykjavik in celsius?',
        entity: 0,
        call: 0,
      });
      expect(truncated).toBe(false);
      const args = JSON.parse(text) as Record<string, unknown>;
      expect(validate(args), text).toBe(true);
      expect(args['city']).toBe('Reykjavik');
      expect(args['unit']).toBe('celsius');
      // Keys stay in the schema's order.
      const order = Object.keys(WEATHER.properties);
      const keys = Object.keys(args);
      expect(keys).toEqual(order.filter((k) => keys.includes(k)));
    }
  });

  it('writes exactly the generated text when nothing is grounded', () => {
    const tool = { name: 'get_weather', parameters: WEATHER };
    const plain = generateArguments(tool, 7, 10_000);
    expect(generateArguments(tool, 7, 10_000, { message: 'hello there', entity: 0, call: 0 })).toEqual(plain);
  });

  it('honours maxProperties and __proto__ parameters', () => {
    const tool = {
      name: 'odd',
      parameters: JSON.parse(
        '{"type": "object", "properties": {"__proto__": {"type": "string", "enum": ["celsius"]}}, "maxProperties": 1}',
      ) as unknown,
    };
    const { text } = generateArguments(tool, 1, 10_000, { message: 'in celsius', entity: 0, call: 0 });
    expect(JSON.parse(text)).toEqual(JSON.parse('{"__proto__": "celsius"}'));
  });
});
