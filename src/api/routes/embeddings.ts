/** POST /v1/embeddings, for an embedding model: the body is read and validated here, served by src/serving/embeddings.ts. */
import type { EmbeddingSpec } from '../../catalog/model-card.js';
import { EmbeddingsRequestSchema } from '../../protocol/embeddings.js';
import type { ServingContext } from '../../serving/context.js';
import { serveEmbeddings } from '../../serving/embeddings.js';
import { readJson } from '../http/body.js';
import type { Routes } from '../http/routes.js';
import { servingRequestOf } from '../http/serving-bridge.js';

export const EMBEDDINGS_PATH = '/v1/embeddings';

export function registerEmbeddingsRoute(routes: Routes, ctx: ServingContext, spec: EmbeddingSpec): void {
  routes.post(EMBEDDINGS_PATH, async (c) => {
    const req = await readJson(c, EmbeddingsRequestSchema);
    return c.json(await serveEmbeddings(ctx, spec, req, servingRequestOf(c)));
  });
}
