/**
 * The simulated embedding vectors (src/content/embedding-vector.ts): unit length at every
 * Matryoshka length, deterministic, closer for texts that share words than for unrelated texts,
 * query and passage of one text close but apart, and base64 as OpenAI's clients decode it.
 */
import { describe, expect, it } from 'vitest';
import { embedText, float32Base64, textFeatures, unitPrefix } from '../../src/content/embedding-vector.js';

const SPACE = { dimensions: 2048, denseBand: 384, seed: 11 };
const vec = (text: string, inputType?: string, length = SPACE.dimensions, space = SPACE) =>
  unitPrefix(embedText(text, inputType, space), length);
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
const norm = (a: readonly number[]) => Math.sqrt(dot(a, a));

const QUERY = 'What is the population of Pittsburgh?';
const RELATED = [
  'Pittsburgh has a population of about 300,000 people.',
  'The population of Pittsburgh fell after the steel mills closed.',
];
const UNRELATED = [
  'The recipe needs two eggs and a cup of flour.',
  'A quiet harbour at dawn, gulls over the water.',
  'Compile the kernel with debug symbols enabled.',
];

describe('embedding vectors', () => {
  it('have unit length at the full size and at every prefix length', () => {
    for (const length of [2048, 1024, 768, 512, 384]) {
      expect(norm(vec(QUERY, 'query', length))).toBeCloseTo(1, 6);
    }
    expect(norm(vec('', 'passage'))).toBeCloseTo(1, 6);
    expect(norm(vec('!!! ...'))).toBeCloseTo(1, 6);
  });

  it('are the same for the same text, space and input type, and differ with the seed', () => {
    expect(vec(QUERY, 'query')).toEqual(vec(QUERY, 'query'));
    expect(vec(QUERY, 'query')).not.toEqual(vec(QUERY, 'query', 2048, { ...SPACE, seed: 12 }));
  });

  it('put texts that share words closer than unrelated texts', () => {
    const q = vec(QUERY, 'query');
    const related = RELATED.map((t) => dot(q, vec(t, 'passage')));
    const unrelated = UNRELATED.map((t) => dot(q, vec(t, 'passage')));
    expect(Math.min(...related)).toBeGreaterThan(Math.max(...unrelated) + 0.15);
    for (const score of unrelated) expect(Math.abs(score)).toBeLessThan(0.15);
  });

  it('keep that order when cut to the shortest Matryoshka length', () => {
    const q = vec(QUERY, 'query', 384);
    const related = RELATED.map((t) => dot(q, vec(t, 'passage', 384)));
    const unrelated = UNRELATED.map((t) => dot(q, vec(t, 'passage', 384)));
    expect(Math.min(...related)).toBeGreaterThan(Math.max(...unrelated));
  });

  it('place a query and a passage of one text close together but apart', () => {
    const similarity = dot(vec(QUERY, 'query'), vec(QUERY, 'passage'));
    expect(similarity).toBeGreaterThan(0.8);
    expect(similarity).toBeLessThan(0.95);
  });

  it('weigh a repeated word sublinearly and common function words less', () => {
    const features = textFeatures('the cat and the cat and the cat');
    expect(features.get('cat')).toBeCloseTo(1 + Math.log(3), 10);
    expect(features.get('the')).toBeCloseTo(0.75, 10);
    expect(features.get('the\u0000cat')).toBeCloseTo(1 + Math.log(1.5), 10);
  });

  it('encode base64 as float32 little-endian, as OpenAI clients decode it', () => {
    const values = vec(QUERY, 'query', 384);
    const bytes = Buffer.from(float32Base64(values), 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
    expect(decoded).toEqual(values);
  });
});
