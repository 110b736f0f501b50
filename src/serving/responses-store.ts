/**
 * The responses kept for `previous_response_id`: the response and the conversation it answered,
 * in memory, least recently used first out (on `lru-cache`).
 *
 * vLLM keeps them in an unbounded dict, and only when VLLM_ENABLE_RESPONSES_API_STORE=1 (otherwise
 * `store` is silently ignored and every `previous_response_id` is a 404; serving.py notes the
 * "memory leak since we never remove responses from the store"). Here the store is on by default,
 * as OpenAI's API is, and bounded twice: at most NIMSIM_RESPONSES_STORE_SIZE responses (0 turns it
 * off, as vLLM's default), and at most MAX_STORED_CHARS characters of JSON over all of them, so a
 * few long conversations cannot hold the process's memory. A response larger than that bound on
 * its own is not kept. An evicted or never-stored id answers 404, as an unknown one does.
 */
import { LRUCache } from 'lru-cache';
import type { PreviousTurn } from './responses-conversation.js';
import type { ResponsesBody } from './responses-protocol.js';

/** The JSON characters all stored responses may take together (~256 MB of UTF-16). */
export const MAX_STORED_CHARS = 128 * 1024 * 1024;

export interface StoredResponse extends PreviousTurn {
  readonly response: ResponsesBody;
}

export interface ResponsesStore {
  get(id: string): StoredResponse | undefined;
  /** Keeps `entry` under its response's id (not kept when the store is off or it is too large). */
  put(entry: StoredResponse): void;
  readonly size: number;
}

export function createResponsesStore(
  maxResponses: number,
  maxChars: number = MAX_STORED_CHARS,
): ResponsesStore {
  if (maxResponses <= 0) return { get: () => undefined, put: () => {}, size: 0 };
  const cache = new LRUCache<string, StoredResponse>({
    max: maxResponses,
    maxSize: maxChars,
    // The conversation is counted whole for every response of a chain (its messages are shared
    // objects, so this over-counts): eviction comes early rather than late.
    sizeCalculation: (entry) =>
      Math.max(1, JSON.stringify(entry.messages).length + JSON.stringify(entry.response.output).length),
  });
  return {
    get: (id) => cache.get(id),
    put: (entry) => void cache.set(entry.response.id, entry),
    get size() {
      return cache.size;
    },
  };
}
