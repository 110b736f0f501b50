/**
 * The /v1/embeddings request as a NeMo Retriever text embedding NIM takes it: OpenAI's fields plus
 * NIM's `input_type` and `truncate` (API reference,
 * https://docs.nvidia.com/nim/nemo-retriever/text-embedding/latest/reference.html). Unknown fields
 * are stripped.
 */
import { z } from 'zod';

/** Inputs one request may embed (OpenAI's limit for one request). */
export const MAX_EMBEDDING_INPUTS = 2048;

export const EmbeddingsRequestSchema = z.object({
  model: z.string().min(1, 'Field required'),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1, 'input must not be empty').max(MAX_EMBEDDING_INPUTS),
  ]),
  input_type: z.enum(['query', 'passage']).nullish(),
  truncate: z.enum(['NONE', 'START', 'END']).nullish(),
  encoding_format: z.enum(['float', 'base64']).nullish(),
  dimensions: z.number().int().min(1).nullish(),
  user: z.string().max(1024).nullish(),
});

export type EmbeddingsRequest = z.infer<typeof EmbeddingsRequestSchema>;
