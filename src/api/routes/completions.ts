/** POST /v1/completions: the body is read and validated here, served by src/serving/completions.ts. */
import { CompletionRequestSchema } from '../../protocol/completions.js';
import { serveCompletion } from '../../serving/completions.js';
import type { ServingContext } from '../../serving/context.js';
import { readJson } from '../http/body.js';
import type { Routes } from '../http/routes.js';
import { respond, servingRequestOf } from '../http/serving-bridge.js';

export function registerCompletionsRoute(routes: Routes, ctx: ServingContext): void {
  routes.post('/v1/completions', async (c) => {
    const req = await readJson(c, CompletionRequestSchema);
    return respond(c, await serveCompletion(ctx, req, servingRequestOf(c)));
  });
}
