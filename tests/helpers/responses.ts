/* eslint-disable @typescript-eslint/no-explicit-any -- wire bodies are read loosely, then asserted exactly */
/**
 * The Responses API tests' server: an in-process nimsim (testService) and the calls they make to
 * POST /v1/responses, with the model and the function tool they share (docs/responses.md).
 */
import { expect } from 'vitest';
import type { RawSettings } from '../../src/config/config.js';
import type { Service } from '../../src/server.js';
import { postJson, readSseEvents, testService } from './service.js';

export const MODEL = 'meta/llama-3.1-8b-instruct';
/** A reasoning model (its replies carry a reasoning item). */
export const GPT_OSS = 'openai/gpt-oss-120b';

export type Json = Record<string, any>;

/** A strict function tool, as the Responses API spells it (flat: no `function` wrapper). */
export const WEATHER_TOOL = {
  type: 'function',
  name: 'get_weather',
  description: 'Get the current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['c', 'f'] } },
    required: ['city', 'unit'],
    additionalProperties: false,
  },
  strict: true,
} as const;

/** One frame of a Responses stream: its `event:` name and its `data:` payload. */
export interface ResponsesEvent {
  readonly event: string | undefined;
  readonly data: Json;
}

export interface ResponsesServer {
  readonly service: Service;
  /** POST /v1/responses with MODEL unless the body names another. */
  post(body: Json, headers?: Record<string, string>): Promise<Response>;
  /** `post`, and its status and parsed body. */
  create(body: Json, headers?: Record<string, string>): Promise<{ status: number; body: Json }>;
  /** `post` with `stream: true`: checks it answered an event stream and returns its events. */
  stream(body: Json, headers?: Record<string, string>): Promise<ResponsesEvent[]>;
}

/** A server for the Responses tests: testService with `settings` (no waiting, no jitter). */
export function responsesServer(settings: RawSettings = {}): ResponsesServer {
  const service = testService(settings);
  const post = async (body: Json, headers: Record<string, string> = {}) =>
    postJson(service, '/v1/responses', { model: MODEL, ...body }, headers);
  return {
    service,
    post,
    async create(body, headers) {
      const res = await post(body, headers);
      return { status: res.status, body: (await res.json()) as Json };
    },
    async stream(body, headers) {
      const res = await post({ stream: true, ...body }, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      return (await readSseEvents(res)) as ResponsesEvent[];
    },
  };
}
