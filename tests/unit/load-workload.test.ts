import { describe, expect, it } from 'vitest';
import { poissonArrivalsMs } from '../../load-tests/lib/arrivals.js';
import { hashIdText, promptText } from '../../load-tests/lib/prompts.js';
import { isLoopbackHost, parseTarget } from '../../load-tests/lib/target.js';
import { parseTrace } from '../../src/simulate/trace.js';
import { createTokenizer } from '../../src/content/tokenizer.js';

describe('Poisson arrivals', () => {
  it('are seeded: the same seed gives the same schedule, another seed another', () => {
    expect(poissonArrivalsMs(10, 50, 7)).toEqual(poissonArrivalsMs(10, 50, 7));
    expect(poissonArrivalsMs(10, 50, 8)).not.toEqual(poissonArrivalsMs(10, 50, 7));
  });

  it('are ascending and average the requested rate', () => {
    const t = poissonArrivalsMs(20, 20_000, 1);
    expect(t.every((x, i) => i === 0 || x >= t[i - 1]!)).toBe(true);
    const rate = t.length / (t[t.length - 1]! / 1000);
    expect(rate).toBeGreaterThan(19.5);
    expect(rate).toBeLessThan(20.5);
    // Exponential gaps: the coefficient of variation is ~1.
    const gaps = t.map((x, i) => x - (i === 0 ? 0 : t[i - 1]!));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    expect(sd / mean).toBeGreaterThan(0.95);
    expect(sd / mean).toBeLessThan(1.05);
  });

  it('refuses a non-positive rate', () => {
    expect(() => poissonArrivalsMs(0, 3, 0)).toThrow(RangeError);
  });
});

describe('synthetic prompts', () => {
  const tokenizer = createTokenizer('llama3');

  it.each([0, 1, 17, 128, 2000])('have exactly %i Llama 3 tokens', (n) => {
    expect(tokenizer.encode(promptText(n, 3, 'x')).length).toBe(n);
  });

  it('built from hash_ids share exactly the tokens their ids share', () => {
    const a = tokenizer.encode(hashIdText([1, 2, 3], 1400, 512, 7, 'own', 0));
    const b = tokenizer.encode(hashIdText([1, 2, 4], 1400, 512, 7, 'own', 1));
    const c = tokenizer.encode(hashIdText([1, 2], 1400, 512, 7, 'own', 2)); // 376 tokens of its own
    expect([a.length, b.length, c.length]).toEqual([1400, 1400, 1400]);
    const shared = (x: number[], y: number[]) => x.findIndex((t, i) => t !== y[i]);
    expect(shared(a, b)).toBe(1024);
    expect(shared(a, c)).toBe(1024);
    // The last, partial block is the start of the whole one.
    expect(tokenizer.encode(hashIdText([5], 100, 512, 7))).toEqual(
      tokenizer.encode(hashIdText([5], 512, 512, 7)).slice(0, 100),
    );
  });

  it('are deterministic per seed and differ from the first word across seeds', () => {
    expect(promptText(50, 1, 'u', 2)).toBe(promptText(50, 1, 'u', 2));
    const a = promptText(50, 1, 'u', 2).split(' ');
    const b = promptText(50, 1, 'u', 3).split(' ');
    expect(a.slice(0, 4)).not.toEqual(b.slice(0, 4));
  });
});

describe('trace parsing', () => {
  it('reads timestamp, session_id, input_length and output_length, sorted by time, skipping blanks and comments', () => {
    const text = [
      '# a comment',
      '{"timestamp": 500, "session_id": "a", "input_length": 10, "output_length": 5}',
      '',
      '{"timestamp": 0, "session_id": 7, "input_length": 20, "output_length": 1}',
      '{"timestamp": 500, "input_length": 30, "output_length": 2}',
    ].join('\n');
    expect(parseTrace(text)).toEqual([
      { timestampMs: 0, sessionId: '7', inputTokens: 20, outputTokens: 1 },
      { timestampMs: 500, sessionId: 'a', inputTokens: 10, outputTokens: 5 },
      { timestampMs: 500, sessionId: 'line-5', inputTokens: 30, outputTokens: 2 },
    ]);
  });

  it('names the line of a malformed entry', () => {
    expect(() => parseTrace('{"timestamp":0,"input_length":1,"output_length":1}\nnope')).toThrow(
      'trace line 2: not JSON',
    );
    expect(() => parseTrace('{"timestamp":-1,"input_length":1,"output_length":1}')).toThrow(
      /line 1: timestamp/,
    );
    expect(() => parseTrace('{"timestamp":0,"input_length":1.5,"output_length":1}')).toThrow(
      /line 1: input_length must be an integer/,
    );
    expect(() => parseTrace('{"timestamp":0,"input_length":1,"output_length":0}')).toThrow(/output_length/);
  });
});

describe('target', () => {
  it('recognises loopback hosts', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['10.0.0.1', 'example.com', '0.0.0.0'].map(isLoopbackHost)).toEqual([false, false, false]);
  });

  it('refuses a remote target unless allowed, and parses port and base path', () => {
    expect(() => parseTarget('http://10.1.2.3:8000', { model: 'm', allowRemote: false })).toThrow(
      /--allow-remote/,
    );
    expect(parseTarget('http://10.1.2.3:8000/v1', { model: 'm', allowRemote: true })).toEqual({
      host: '10.1.2.3',
      port: 8000,
      basePath: '',
      model: 'm',
      apiKey: undefined,
    });
    expect(parseTarget('http://127.0.0.1:9000/nim/', { model: 'm', allowRemote: false }).basePath).toBe(
      '/nim',
    );
  });
});
