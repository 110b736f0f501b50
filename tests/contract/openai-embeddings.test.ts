/**
 * The official openai client's `embeddings.create` against a live nimsim serving an embedding
 * model (docs/embeddings.md): its default base64 transfer decoded into floats, explicit floats,
 * NIM's `input_type` as an extra field or a model suffix, `dimensions`, and its error class.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'nvidia/llama-3.2-nv-embedqa-1b-v2';
const QUESTION = 'What is the population of Pittsburgh?';
const PASSAGES = [
  'Pittsburgh has a population of about 300,000 people.',
  'Two eggs and a cup of flour make the batter.',
];

/** NIM's extra field, which openai's types do not declare; the client sends it as given. */
type WithInputType = OpenAI.EmbeddingCreateParams & { input_type?: 'query' | 'passage' };
const params = (p: WithInputType) => p as OpenAI.EmbeddingCreateParams;
const dot = (a: readonly number[], b: readonly number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

let server: LiveServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startLiveServer({ modelName: MODEL });
  client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'not-used', maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
});

describe('embeddings.create', () => {
  it('returns float vectors through the default base64 transfer, equal to the float answer', async () => {
    const decoded = await client.embeddings.create(
      params({ model: MODEL, input: PASSAGES, input_type: 'passage' }),
    );
    expect(decoded.object).toBe('list');
    expect(decoded.model).toBe(MODEL);
    expect(decoded.data).toHaveLength(2);
    expect(decoded.data[0]!.embedding).toHaveLength(2048);
    const floats = await client.embeddings.create(
      params({ model: MODEL, input: PASSAGES, input_type: 'passage', encoding_format: 'float' }),
    );
    expect(decoded.data.map((d) => d.embedding)).toEqual(floats.data.map((d) => d.embedding));
    expect(decoded.usage.prompt_tokens).toBeGreaterThan(0);
    expect(decoded.usage.total_tokens).toBe(decoded.usage.prompt_tokens);
  });

  it('ranks the passage that shares the question’s words first (a -query model suffix)', async () => {
    const query = await client.embeddings.create({ model: `${MODEL}-query`, input: QUESTION });
    const passages = await client.embeddings.create(
      params({ model: MODEL, input: PASSAGES, input_type: 'passage' }),
    );
    const q = query.data[0]!.embedding;
    const [related, unrelated] = passages.data.map((d) => dot(q, d.embedding));
    expect(related!).toBeGreaterThan(unrelated! + 0.2);
  });

  it('cuts vectors to a Matryoshka length with dimensions', async () => {
    const res = await client.embeddings.create(
      params({ model: MODEL, input: QUESTION, input_type: 'query', dimensions: 384 }),
    );
    const v = res.data[0]!.embedding;
    expect(v).toHaveLength(384);
    expect(dot(v, v)).toBeCloseTo(1, 5);
  });

  it('raises BadRequestError without input_type', async () => {
    const err = await client.embeddings.create({ model: MODEL, input: QUESTION }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).message).toContain(
      "'input_type' parameter is required for asymmetric models",
    );
  });
});
