/** vLLM's POST /tokenize and /detokenize (no /v1 prefix), served by src/serving/tokenize.ts. */
import { DetokenizeRequestSchema, TokenizeRequestSchema } from '../../protocol/tokenize.js';
import type { ServingContext } from '../../serving/context.js';
import { serveDetokenize, serveTokenize } from '../../serving/tokenize.js';
import { readJson } from '../http/body.js';
import type { Routes } from '../http/routes.js';

export function registerTokenizeRoutes(routes: Routes, ctx: ServingContext): void {
  routes.post('/tokenize', async (c) =>
    c.json(await serveTokenize(ctx, await readJson(c, TokenizeRequestSchema))),
  );
  routes.post('/detokenize', async (c) =>
    c.json(serveDetokenize(ctx, await readJson(c, DetokenizeRequestSchema))),
  );
}
