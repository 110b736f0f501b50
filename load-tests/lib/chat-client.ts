/**
 * Streaming chat requests against a target, one shared keep-alive agent with unbounded sockets
 * (each concurrent stream needs its own connection). Every request asks for `include_usage` so
 * output tokens and cached tokens come from the server's own count, and `ignore_eos` so the output
 * length is the one asked for (a vLLM sampling extra that NIM accepts).
 */
import http from 'node:http';
import type { RequestRecord } from './metrics.js';
import { streamRequest } from './sse-client.js';
import type { Target } from './target.js';

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface ChatClient {
  /** Sends one streaming chat completion; never rejects (failures are in the record). */
  send(req: {
    messages: readonly ChatMessage[];
    maxTokens: number;
    session?: number;
    turn?: number;
    /** Keep the reply text (multi-turn histories need it). */
    collectText?: boolean;
    /**
     * The session's routing identity, sent as OpenAI's `user` and `prompt_cache_key` (what a
     * session-affinity router keys on); omitted when undefined.
     */
    sessionKey?: string;
  }): Promise<RequestRecord>;
  /** Closes the pooled sockets. */
  close(): void;
}

/** A chat client for `target`; each request gives up after `timeoutMs`. */
export function createChatClient(target: Target, opts: { timeoutMs: number }): ChatClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const headers: Record<string, string> = {};
  if (target.apiKey !== undefined) headers.authorization = `Bearer ${target.apiKey}`;
  const path = `${target.basePath}/v1/chat/completions`;
  return {
    async send(req) {
      const body = JSON.stringify({
        model: target.model,
        messages: req.messages,
        max_tokens: req.maxTokens,
        ignore_eos: true,
        stream: true,
        stream_options: { include_usage: true },
        ...(req.sessionKey === undefined ? {} : { user: req.sessionKey, prompt_cache_key: req.sessionKey }),
      });
      const result = await streamRequest({
        host: target.host,
        port: target.port,
        path,
        body,
        agent,
        headers,
        timeoutMs: opts.timeoutMs,
        collectText: req.collectText === true,
      });
      return { ...result, session: req.session ?? 0, turn: req.turn ?? 0 };
    },
    close() {
      agent.destroy();
    },
  };
}

/**
 * Sends `count` short requests (unrelated prompts, not measured) so that both processes have
 * compiled their hot paths and the server has loaded its tokenizer before the measured phase.
 */
export async function warmUp(client: ChatClient, count = 4): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      client.send({
        messages: [{ role: 'user', content: `Warm-up request ${i}: say hello.` }],
        maxTokens: 4,
      }),
    ),
  );
}
