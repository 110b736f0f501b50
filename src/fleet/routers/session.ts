/**
 * Sticky sessions: a request with a session key (`prompt_cache_key` or `user`) goes where its
 * session's last request went, so a conversation finds its history cached without any index. A new
 * session, a request without a key, or one whose replica's waiting queue is full is routed by the
 * kv-aware router, and the session sticks to where it went. Sessions are remembered in a bounded
 * map, the least recently used forgotten first.
 */
import type { Router } from '../router.js';

/** Sessions remembered at most. */
export const SESSION_CAPACITY = 100_000;

export function createSessionRouter(
  fallback: Router,
  waitingRoom: (replica: number) => number,
  capacity = SESSION_CAPACITY,
): Router {
  const sticky = new Map<string, number>();
  return {
    name: 'session',
    usesCacheState: fallback.usesCacheState,
    route(q) {
      const key = q.request.sessionKey;
      if (key === undefined || key === '') return fallback.route(q);
      const known = sticky.get(key);
      if (known !== undefined) {
        sticky.delete(key); // re-inserted below: the Map's order is recency
        if (waitingRoom(known) > 0) {
          sticky.set(key, known);
          return known;
        }
      }
      const replica = fallback.route(q);
      if (sticky.size >= capacity) sticky.delete(sticky.keys().next().value!);
      sticky.set(key, replica);
      return replica;
    },
  };
}
