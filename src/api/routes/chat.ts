/** POST /v1/chat/completions: the body is read and validated here, served by src/serving/chat.ts. */
import { ChatCompletionRequestSchema } from '../../protocol/chat.js';
import { serveChat } from '../../serving/chat.js';
import type { ServingContext } from '../../serving/context.js';
import { readJson } from '../http/body.js';
import type { Routes } from '../http/routes.js';
import { respond, servingRequestOf } from '../http/serving-bridge.js';

export function registerChatRoute(routes: Routes, ctx: ServingContext): void {
  routes.post('/v1/chat/completions', async (c) => {
    const req = await readJson(c, ChatCompletionRequestSchema);
    return respond(c, await serveChat(ctx, req, servingRequestOf(c)));
  });
}
