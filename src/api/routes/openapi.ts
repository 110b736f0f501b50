/**
 * GET /openapi.json, generated from the same zod schemas that validate requests (zod's own JSON
 * Schema export), and GET /docs, the Swagger UI page FastAPI serves in a NIM (docs/nim-api.md#openapi).
 */
import type { Routes } from '../http/routes.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { z } from 'zod';
import { ChatCompletionRequestSchema } from '../../protocol/chat.js';
import { CompletionRequestSchema } from '../../protocol/completions.js';
import { ResponsesRequestSchema } from '../../protocol/responses.js';
import { EmbeddingsRequestSchema } from '../../protocol/embeddings.js';
import { CountTokensRequestSchema, MessagesRequestSchema } from '../../protocol/messages.js';
import { OPENAPI_VERSION } from '../server-info.js';
import { DetokenizeRequestSchema, TokenizeRequestSchema } from '../../protocol/tokenize.js';

const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
};

/** Which routes the served model has: a generative model's, or an embedding model's. */
export type ModelKind = 'generation' | 'embedding';

function buildSpec(release: string, kind: ModelKind) {
  const post = (summary: string, ref: string, stream: boolean, errorRef = 'ErrorResponse') => ({
    post: {
      summary,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
      },
      responses: {
        '200': {
          description: 'Successful Response',
          content: {
            'application/json': { schema: { type: 'object' } },
            ...(stream ? { 'text/event-stream': { schema: { type: 'string' } } } : {}),
          },
        },
        '400': {
          description: 'Bad request',
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${errorRef}` } } },
        },
      },
    },
  });
  const get = (summary: string) => ({
    get: {
      summary,
      responses: {
        '200': {
          description: 'Successful Response',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
      },
    },
  });
  return {
    openapi: OPENAPI_VERSION,
    info: { title: 'NVIDIA NIM for LLMs (nimsim)', version: release },
    paths: {
      ...(kind === 'embedding'
        ? { '/v1/embeddings': post('Create embeddings', 'EmbeddingsRequest', false) }
        : {
            '/v1/chat/completions': post('Create chat completion', 'ChatCompletionRequest', true),
            '/v1/completions': post('Create completion', 'CompletionRequest', true),
            '/v1/responses': post('Create response', 'ResponsesRequest', true),
            '/v1/messages': post(
              'Create message (Anthropic Messages API)',
              'MessagesRequest',
              true,
              'AnthropicErrorResponse',
            ),
            '/v1/messages/count_tokens': post(
              'Count message tokens (Anthropic Messages API)',
              'CountTokensRequest',
              false,
              'AnthropicErrorResponse',
            ),
            '/tokenize': post('Tokenize', 'TokenizeRequest', false),
            '/detokenize': post('Detokenize', 'DetokenizeRequest', false),
          }),
      '/v1/models': get('List models'),
      '/v1/health/live': get('Liveness'),
      '/v1/health/ready': get('Readiness'),
      '/v1/metadata': get('Metadata'),
      '/v1/version': get('Version'),
      '/v1/license': get('License'),
      '/v1/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: {
            '200': {
              description: 'Prometheus text',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        ChatCompletionRequest: jsonSchema(ChatCompletionRequestSchema),
        CompletionRequest: jsonSchema(CompletionRequestSchema),
        ResponsesRequest: jsonSchema(ResponsesRequestSchema),
        MessagesRequest: jsonSchema(MessagesRequestSchema),
        CountTokensRequest: jsonSchema(CountTokensRequestSchema),
        EmbeddingsRequest: jsonSchema(EmbeddingsRequestSchema),
        TokenizeRequest: jsonSchema(TokenizeRequestSchema),
        DetokenizeRequest: jsonSchema(DetokenizeRequestSchema),
        ErrorResponse: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: {
                message: { type: 'string' },
                type: { type: 'string' },
                param: { type: ['string', 'null'] },
                code: { type: 'integer' },
              },
              required: ['message', 'type', 'code'],
            },
          },
        },
        AnthropicErrorResponse: {
          type: 'object',
          properties: {
            type: { const: 'error' },
            error: {
              type: 'object',
              properties: { type: { type: 'string' }, message: { type: 'string' } },
              required: ['type', 'message'],
            },
          },
          required: ['type', 'error'],
        },
      },
    },
  };
}

/**
 * Swagger UI from the installed `swagger-ui-dist` package, served by nimsim itself so /docs works
 * offline (no CDN), as the live page does. Read on first request, then kept.
 */
const DOCS_HTML = `<!doctype html>
<html><head><title>NVIDIA NIM for LLMs (nimsim) - Swagger UI</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui'});</script>
</body></html>`;

const SWAGGER_ASSETS = {
  '/docs/swagger-ui.css': 'text/css; charset=utf-8',
  '/docs/swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;

const require = createRequire(import.meta.url);
const assetCache = new Map<string, Buffer>();

function swaggerAsset(path: keyof typeof SWAGGER_ASSETS): Buffer {
  let bytes = assetCache.get(path);
  if (bytes === undefined) {
    const file = path.slice('/docs/'.length);
    bytes = readFileSync(require.resolve(`swagger-ui-dist/${file}`));
    assetCache.set(path, bytes);
  }
  return bytes;
}

export function registerOpenApiRoutes(routes: Routes, release: string, kind: ModelKind = 'generation'): void {
  const spec = JSON.stringify(buildSpec(release, kind));
  routes.get('/openapi.json', (c) => c.body(spec, 200, { 'content-type': 'application/json' }));
  routes.get('/docs', (c) => c.html(DOCS_HTML));
  for (const [path, type] of Object.entries(SWAGGER_ASSETS) as [keyof typeof SWAGGER_ASSETS, string][]) {
    routes.get(path, (c) =>
      c.body(new Uint8Array(swaggerAsset(path)), 200, {
        'content-type': type,
        'cache-control': 'public, max-age=86400',
      }),
    );
  }
}
