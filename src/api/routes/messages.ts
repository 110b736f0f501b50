/**
 * POST /v1/messages and POST /v1/messages/count_tokens (Anthropic's Messages API, served by
 * src/serving/messages.ts). Every failure on these paths — the API key, readiness, a fault, the
 * body, the request — is answered in Anthropic's error shape (serving/anthropic-errors.ts), and a
 * stream is written as Anthropic's named events.
 */
import { CountTokensRequestSchema, MessagesRequestSchema } from '../../protocol/messages.js';
import { toAnthropicErrorResponse } from '../../serving/anthropic-errors.js';
import type { ServingContext } from '../../serving/context.js';
import { countMessageTokens, serveMessages } from '../../serving/messages.js';
import { readJson } from '../http/body.js';
import type { Routes } from '../http/routes.js';
import { respond, servingRequestOf } from '../http/serving-bridge.js';

export const MESSAGES_PATH = '/v1/messages';
export const COUNT_TOKENS_PATH = '/v1/messages/count_tokens';

export function registerMessagesRoutes(routes: Routes, ctx: ServingContext): void {
  const options = { errors: toAnthropicErrorResponse };
  routes.post(
    MESSAGES_PATH,
    async (c) => {
      const req = await readJson(c, MessagesRequestSchema);
      return respond(c, await serveMessages(ctx, req, servingRequestOf(c)));
    },
    options,
  );
  routes.post(
    COUNT_TOKENS_PATH,
    async (c) => c.json(await countMessageTokens(ctx, await readJson(c, CountTokensRequestSchema))),
    options,
  );
}
