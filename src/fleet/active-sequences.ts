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
import { ReplicaSets } from './replica-sets.js';

/** One routed request, until it finishes. */
export interface ActiveRequest {
  readonly replica: number;
  readonly keys: readonly number[];
  /** Prompt tokens counted in its replica's prefill load; 0 once admitted. */
  prefillTokens: number;
}

export class ActiveSequences {
  /** Which replicas' active requests hold each key. */
  private readonly sets: ReplicaSets;
  /** Per replica, how many of its active requests hold each key (small tables: one count per slot). */
  private readonly counts: ReplicaSets[];
  readonly prefillTokens: Float64Array;

  constructor(readonly replicas: number) {
    this.sets = new ReplicaSets(replicas);
    this.counts = Array.from({ length: replicas }, () => new ReplicaSets(1, true));
    this.prefillTokens = new Float64Array(replicas);
  }

  /** Distinct prompt blocks of the replica's active requests (Dynamo's active_blocks). */
  activeBlocks(replica: number): number {
    return this.sets.sizes[replica]!;
  }

  /** Per replica, how many of `keys` its active requests already hold in a row from the first. */
  activeDepths(keys: readonly number[], out: Int32Array): void {
    ReplicaSets.depths([this.sets], keys, out);
  }

  add(replica: number, keys: readonly number[], prefillTokens: number): ActiveRequest {
    const counts = this.counts[replica]!;
    for (const key of keys) if (counts.add(key, 0)) this.sets.add(key, replica);
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
    const counts = this.counts[req.replica]!;
    for (const key of req.keys) if (counts.remove(key, 0)) this.sets.remove(key, req.replica);
  }
}
