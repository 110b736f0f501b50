/** POST /v1/responses: the body is read and validated here, served by src/serving/responses.ts. */
import { ResponsesRequestSchema } from '../../protocol/responses.js';
import type { ServingContext } from '../../serving/context.js';
import { serveResponses } from '../../serving/responses.js';
import { readJson } from '../http/body.js';
import type { Routes } from '../http/routes.js';
import { respond, servingRequestOf } from '../http/serving-bridge.js';

export function registerResponsesRoute(routes: Routes, ctx: ServingContext): void {
  routes.post('/v1/responses', async (c) => {
    const req = await readJson(c, ResponsesRequestSchema);
    return respond(c, await serveResponses(ctx, req, servingRequestOf(c)));
  });
}
