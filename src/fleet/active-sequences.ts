/**
 * The load a KV-aware router predicts on each replica from its own routing decisions, as Dynamo's
 * ActiveSequences (lib/llm/src/kv_router/sequence.rs) does rather than wait for the workers'
 * metrics: the distinct prompt blocks of the requests it sent there and that are not finished
 * (`active_blocks`; output blocks not tracked, Dynamo's `router_track_output_blocks` default), and
 * the prompt tokens still to prefill (`active_tokens`: each request's prompt minus its predicted
 * overlap, until its prefill is done).
 *
 * One difference: Dynamo marks a prefill done when the first token comes back; here it is when the
 * replica admits the request (its `scheduled` event), since a `simulate` run does not deliver token
 * events. Chunked prefill of a long prompt thus stops counting one or more steps early.
 */
import { PathTable } from './path-table.js';

/** One routed request, until it finishes. */
export interface ActiveRequest {
  readonly replica: number;
  readonly keys: readonly number[];
  /** Prompt tokens counted in its replica's prefill load; 0 once admitted. */
  prefillTokens: number;
}

export class ActiveSequences {
  /**
   * Per replica, the tree of its active requests' prompt blocks: a request adds and removes only
   * the blocks no other active request there holds, and a replica's share of a prompt is found in
   * O(log blocks) lookups (path-table.ts).
   */
  private readonly paths: PathTable[];
  readonly prefillTokens: Float64Array;

  constructor(readonly replicas: number) {
    this.paths = Array.from({ length: replicas }, () => new PathTable());
    this.prefillTokens = new Float64Array(replicas);
  }

  /** Distinct prompt blocks of the replica's active requests (Dynamo's active_blocks). */
  activeBlocks(replica: number): number {
    return this.paths[replica]!.size;
  }

  /** Per replica, how many of `keys` its active requests already hold in a row from the first. */
  activeDepths(keys: readonly number[], out: Int32Array): void {
    for (let w = 0; w < this.replicas; w++) out[w] = this.paths[w]!.depth(keys);
  }

  add(replica: number, keys: readonly number[], prefillTokens: number): ActiveRequest {
    const paths = this.paths[replica]!;
    paths.add(keys, paths.depth(keys));
    this.prefillTokens[replica]! += prefillTokens;
    return { replica, keys, prefillTokens };
  }

  /** The request's prefill started: its tokens leave the replica's prefill load. */
  prefilled(req: ActiveRequest): void {
    this.prefillTokens[req.replica]! -= req.prefillTokens;
    req.prefillTokens = 0;
  }

  /** The request finished (or was aborted): its blocks and any prefill left go. */
  free(req: ActiveRequest): void {
    this.prefilled(req);
    this.paths[req.replica]!.remove(req.keys);
  }
}
