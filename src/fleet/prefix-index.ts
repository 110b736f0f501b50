/**
 * The router's view of every replica's prefix cache, built from the KV events the replicas publish
 * (src/engine/kv-events.ts) and nothing else — Dynamo's KvIndexer (lib/llm/src/kv_router/indexer.rs),
 * which keeps a radix tree of the blocks each worker reported stored and answers "how many of this
 * request's blocks does each worker hold, in a row from the first" (its overlap scores).
 *
 * A block in either tier counts: the replica's lookup finds host-tier blocks too (they are copied
 * back, not recomputed).
 */
import type { KvEventBatch } from '../engine/kv-events.js';
import { ReplicaSets } from './replica-sets.js';

export class PrefixIndex {
  private readonly gpu: ReplicaSets;
  private readonly cpu: ReplicaSets;
  private readonly both: readonly ReplicaSets[];

  constructor(readonly replicas: number) {
    this.gpu = new ReplicaSets(replicas);
    this.cpu = new ReplicaSets(replicas);
    this.both = [this.gpu, this.cpu];
  }

  /** Applies one replica's events, in order. */
  apply(replica: number, batch: KvEventBatch): void {
    for (const ev of batch.events) {
      if (ev.type === 'AllBlocksCleared') {
        this.clear(replica);
        continue;
      }
      const tier = ev.medium === 'CPU' ? this.cpu : this.gpu;
      if (ev.type === 'BlockStored') for (const key of ev.blockHashes) tier.add(key, replica);
      else for (const key of ev.blockHashes) tier.remove(key, replica);
    }
  }

  /** Forgets everything `replica` held (its cache was reset). */
  clear(replica: number): void {
    this.gpu.clear(replica);
    this.cpu.clear(replica);
  }

  /** Per replica, the blocks of `keys` it holds in a row from the first (overlap scores), into `out`. */
  overlaps(keys: readonly number[], out: Int32Array): void {
    ReplicaSets.depths(this.both, keys, out);
  }

  /** Blocks (either tier) the index believes `replica` holds: Dynamo's tree size, its tie break. */
  blocksOf(replica: number): number {
    return this.gpu.sizes[replica]! + this.cpu.sizes[replica]!;
  }

  /** Distinct block keys known across the fleet, per tier. */
  get size(): { gpu: number; cpu: number } {
    return { gpu: this.gpu.size, cpu: this.cpu.size };
  }
}
