/**
 * The baseline of load-tests/overhead.ts: the same HTTP stack as nimsim (Hono on
 * @hono/node-server) doing the least an OpenAI-compatible endpoint must do — read and parse the
 * JSON body, answer a fixed chat.completion of the same shape and size as nimsim's.
 *
 *   npx tsx load-tests/lib/bare-hono.ts --port 8001
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 8001;

/** A 16-token reply shaped like nimsim's non-streaming chat.completion. */
const COMPLETION = {
  id: 'chatcmpl-00000000000000000000000000000000',
  object: 'chat.completion',
  created: 0,
  model: 'meta/llama-3.1-8b-instruct',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'The old bridge shook a little whenever a heavy truck crossed it. A shared prefix',
        refusal: null,
        tool_calls: [],
        reasoning_content: null,
      },
      logprobs: null,
      finish_reason: 'length',
      stop_reason: null,
    },
  ],
  usage: {
    prompt_tokens: 42,
    completion_tokens: 16,
    total_tokens: 58,
    prompt_tokens_details: { cached_tokens: 0 },
  },
  service_tier: null,
  system_fingerprint: null,
  prompt_logprobs: null,
  kv_transfer_params: null,
};

const app = new Hono();
app.get('/v1/health/ready', (c) => c.json({ object: 'health.response', message: 'Service is ready.' }));
app.post('/v1/chat/completions', async (c) => {
  // Parse the body as any real endpoint must; the content is not looked at.
  await c.req.json();
  return c.json({ ...COMPLETION, created: Math.floor(Date.now() / 1000) });
});

const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
