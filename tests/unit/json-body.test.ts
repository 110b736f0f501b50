import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { jsonParts, StreamedArray, streamedJsonResponse } from '../../src/serving/json-body.js';

/** The value with every StreamedArray written out as an array (of parsed items when they are JSON). */
function materialise(value: unknown): unknown {
  if (value instanceof StreamedArray) {
    return [...value.items()].map((item) =>
      value.itemsAreJson ? (JSON.parse(item as string) as unknown) : materialise(item),
    );
  }
  if (Array.isArray(value)) return value.map(materialise);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, materialise(v)]));
  }
  return value;
}

/**
 * Replaces some arrays of a JSON value by StreamedArrays of the same items (whose items are then
 * plain values: a StreamedArray's items are written with JSON.stringify).
 */
function withStreamedArrays(value: unknown, pick: () => boolean): unknown {
  if (Array.isArray(value)) {
    return pick() ? new StreamedArray(() => value) : value.map((v) => withStreamedArrays(v, pick));
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withStreamedArrays(v, pick)]));
  }
  return value;
}

describe('jsonParts', () => {
  it('writes exactly what JSON.stringify writes, StreamedArrays as arrays', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.infiniteStream(fc.boolean()), (value, picks) => {
        const streamed = withStreamedArrays(value, () => picks.next().value);
        expect([...jsonParts(streamed)].join('')).toBe(JSON.stringify(value));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves out undefined and function properties and writes them as null in arrays, as JSON.stringify does', () => {
    const value = { a: undefined, b: 1, c: () => 1, d: [undefined, () => 1, 2], e: { toJSON: () => 'x' } };
    expect([...jsonParts(value)].join('')).toBe(JSON.stringify(value));
  });

  it('writes the items of a JSON StreamedArray as they are', () => {
    const value = {
      a: new StreamedArray(() => ['{"x":1}', 'null', '"s"'], true),
      b: new StreamedArray(() => []),
    };
    expect([...jsonParts(value)].join('')).toBe('{"a":[{"x":1},null,"s"],"b":[]}');
  });

  it('makes the items of a StreamedArray only when the writer reaches them', () => {
    let made = 0;
    const parts = jsonParts({
      a: new StreamedArray(function* () {
        for (let i = 0; i < 1000; i++) {
          made++;
          yield i;
        }
      }),
    });
    parts.next(); // '{'
    parts.next(); // '"a":'
    parts.next(); // '['
    parts.next(); // '0'
    expect(made).toBe(1);
  });
});

describe('streamedJsonResponse', () => {
  it('is a 200 application/json response whose body is the JSON text', async () => {
    const body = {
      id: 'x',
      list: new StreamedArray(() => Array.from({ length: 50_000 }, (_, i) => ({ i }))),
    };
    const res = streamedJsonResponse(body);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe(JSON.stringify(materialise(body)));
  });

  it('hands the connection chunks of about 64 KiB, made as it pulls', async () => {
    let made = 0;
    const res = streamedJsonResponse({
      list: new StreamedArray(function* () {
        for (let i = 0; i < 200_000; i++) {
          made++;
          yield 'x'.repeat(10);
        }
      }),
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(first.value!.length).toBeGreaterThanOrEqual(64 * 1024);
    expect(first.value!.length).toBeLessThan(64 * 1024 + 100);
    // Only what the first chunk needed (plus at most one chunk read ahead) has been made.
    expect(made).toBeLessThan(2 * 6000);
    await reader.cancel();
    const after = made;
    await new Promise((r) => setImmediate(r));
    expect(made).toBe(after);
  });
});
