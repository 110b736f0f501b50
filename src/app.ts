/**
 * createApp(deps): the Hono application — which route answers which path, and which paths are
 * gated. Everything a request passes around its route (admission, error mapping, metrics, access
 * log) is the HTTP edge (src/api/http/edge.ts). It never listens (server.ts does), so tests drive
 * it through `app.request()`.
 */
import { Hono } from 'hono';
import type { FaultInjector } from './api/faults/faults.js';
import { createEdge } from './api/http/edge.js';
import { createRoutes } from './api/http/routes.js';
import { registerAdminRoutes, type AdminDeps } from './api/routes/admin.js';
import { registerChatRoute } from './api/routes/chat.js';
import { registerCompletionsRoute } from './api/routes/completions.js';
import { EMBEDDINGS_PATH, registerEmbeddingsRoute } from './api/routes/embeddings.js';
import { registerHealthRoutes, type Readiness } from './api/routes/health.js';
import { LOAD_LORA_PATH, registerLoraRoutes, UNLOAD_LORA_PATH } from './api/routes/lora.js';
import { COUNT_TOKENS_PATH, MESSAGES_PATH, registerMessagesRoutes } from './api/routes/messages.js';
import { registerMetaRoutes } from './api/routes/meta.js';
import { registerMetricsRoutes } from './api/routes/metrics.js';
import { registerModelsRoute } from './api/routes/models.js';
import { registerOpenApiRoutes } from './api/routes/openapi.js';
import { registerResponsesRoute } from './api/routes/responses.js';
import { registerTokenizeRoutes } from './api/routes/tokenize.js';
import { registerUiRoutes } from './api/routes/ui.js';
import type { LiveFeed } from './ui/live-feed.js';
import type { ServerInfo } from './api/server-info.js';
import type { Logger } from './logging.js';
import type { Metrics } from './metrics/metrics.js';
import type { ServingContext } from './serving/context.js';

export interface AppDeps {
  readonly serving: ServingContext;
  readonly info: ServerInfo;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly admin: AdminDeps;
  readonly logger: Logger;
  readonly apiKey?: string | undefined;
  readonly adminToken?: string | undefined;
  readonly maxBodyBytes: number;
  /** Bytes of one event stream a client may leave unread before it is aborted (api/http/sse.ts). */
  readonly streamBufferBytes: number;
  /** Faults on demand (x-nimsim-fault, NIMSIM_FAULT_RATE) on the generation routes. */
  readonly faults?: FaultInjector;
  /** The live page's feed (GET /ui, /ui/events); absent with NIMSIM_UI=0, and the routes 404. */
  readonly liveFeed?: LiveFeed | undefined;
}

/** The routes faults apply to: the ones that run the model (docs/interface.md#faults). */
const GENERATION_FAULT_ROUTES = ['/v1/chat/completions', '/v1/completions', '/v1/responses', MESSAGES_PATH];

/** The inference routes of a generative model: behind the API key and readiness. */
const GENERATION_ROUTES = [
  ...GENERATION_FAULT_ROUTES,
  COUNT_TOKENS_PATH,
  '/v1/models',
  '/tokenize',
  '/detokenize',
];

/** An embedding model's inference routes (docs/embeddings.md). */
const EMBEDDING_ROUTES = [EMBEDDINGS_PATH, '/v1/models'];

export function createApp(deps: AppDeps): Hono {
  const compat = deps.serving.compat;
  const app = new Hono();
  // Admission, error mapping, metrics and the access log wrap each route's handler: one handler
  // per request, no middleware chain (src/api/http/routes.ts says why).
  // An embedding model serves /v1/embeddings and no generation route, as an embedding NIM; a
  // generative model no /v1/embeddings, as vLLM attaches the pooling routes only for models that
  // pool (docs/embeddings.md#routes).
  const embedding = deps.serving.embedding;
  const edge = createEdge({
    ...deps,
    compat,
    gatedPaths: embedding ? EMBEDDING_ROUTES : GENERATION_ROUTES,
    faultPaths: embedding ? [EMBEDDINGS_PATH] : GENERATION_FAULT_ROUTES,
    adminPaths: embedding ? [] : [LOAD_LORA_PATH, UNLOAD_LORA_PATH],
  });
  const routes = createRoutes(app, edge.pipeline);

  registerHealthRoutes(routes, deps.readiness, compat);
  registerMetaRoutes(routes, deps.info);
  registerModelsRoute(routes, deps.info, deps.serving.loras);
  if (embedding) {
    registerEmbeddingsRoute(routes, deps.serving, embedding);
  } else {
    registerChatRoute(routes, deps.serving);
    registerCompletionsRoute(routes, deps.serving);
    registerResponsesRoute(routes, deps.serving);
    registerMessagesRoutes(routes, deps.serving);
    registerTokenizeRoutes(routes, deps.serving);
    registerLoraRoutes(routes, deps.serving);
  }
  registerMetricsRoutes(routes, deps.metrics);
  registerOpenApiRoutes(routes, deps.info.release, embedding ? 'embedding' : 'generation');
  registerAdminRoutes(routes, deps.admin);
  if (deps.liveFeed) registerUiRoutes(routes, { feed: deps.liveFeed, adminToken: deps.adminToken });

  app.notFound(edge.notFound);
  app.onError(edge.handleError);
  return app;
}
