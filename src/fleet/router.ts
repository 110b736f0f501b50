/**
 * How a fleet picks the replica of each request: the policies' shared vocabulary. A router reads
 * what it needs through a RouteQuery (the prompt's block keys and their overlap with each replica's
 * cache are computed only when asked, once) and the fleet's RoutingState, and returns a replica.
 */
import { ROUTER_NAMES } from '../config/settings.js';
import type { EngineRequest, EngineStats } from '../engine/types.js';
import type { ActiveSequences } from './active-sequences.js';
import type { PrefixIndex } from './prefix-index.js';

export { ROUTER_NAMES };
export type RouterName = (typeof ROUTER_NAMES)[number];

/** What a router may read of one replica. */
export interface ReplicaLoad {
  stats(): EngineStats;
  waitingRoom(): number;
}

export interface RouteQuery {
  readonly request: EngineRequest;
  /** The prompt's matchable block keys, as the replicas' caches key them. */
  keys(): readonly number[];
  /** Per replica, how many of `keys()` its cache holds in a row from the first (the prefix index's view). */
  overlaps(): Int32Array;
}

export interface RoutingState {
  readonly replicas: readonly ReplicaLoad[];
  /** Every replica's cached blocks, from their KV events (kept only for routers that need it). */
  readonly index: PrefixIndex;
  /** The load each replica has from routed, unfinished requests (kept only for routers that need it). */
  readonly active: ActiveSequences;
  readonly blockSize: number;
}

export interface Router {
  readonly name: RouterName;
  /** Reads the prefix index and the active sequences: the fleet keeps them up to date only then. */
  readonly usesCacheState: boolean;
  route(query: RouteQuery): number;
}

/** The kv-aware router's knobs, with Dynamo's names and defaults (lib/llm/src/kv_router/config.rs). */
export interface KvRouterConfig {
  /** Weight of the prefill cost (blocks to compute) against the decode cost (blocks held); 1. */
  readonly overlapScoreWeight: number;
  /** Softmax temperature over the normalized costs; 0 = always the cheapest (ties broken). */
  readonly routerTemperature: number;
}
