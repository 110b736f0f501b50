/**
 * The router's view of every replica's prefix cache, built from the KV events the replicas publish
 * (src/engine/kv-events.ts) and nothing else — Dynamo's KvIndexer (lib/llm/src/kv_router/indexer.rs),
 * which keeps a radix tree of the blocks each worker reported stored and answers "how many of this
 * request's blocks does each worker hold, in a row from the first" (its overlap scores).
 *
 * A block in any tier counts: the replica's lookup finds host- and disk-tier blocks too (they are
 * copied back, not recomputed).
 */
import type { KvEventBatch } from '../engine/kv-events.js';
import { ALL_CLEARED, type KvEventLog, REMOVED_CPU, REMOVED_GPU } from '../engine/kv-event-log.js';
import { ReplicaSets } from './replica-sets.js';

export class PrefixIndex {
  private readonly gpu: ReplicaSets;
  private readonly cpu: ReplicaSets;
  private readonly disk: ReplicaSets;
  private readonly tiers: readonly ReplicaSets[];

  constructor(readonly replicas: number) {
    this.gpu = new ReplicaSets(replicas);
    this.cpu = new ReplicaSets(replicas);
    this.disk = new ReplicaSets(replicas);
    this.tiers = [this.gpu, this.cpu, this.disk];
  }

  /** Applies one replica's events, in order. */
  apply(replica: number, batch: KvEventBatch): void {
    for (const ev of batch.events) {
      if (ev.type === 'AllBlocksCleared') {
        this.clear(replica);
        continue;
      }
      const tier = ev.medium === 'CPU' ? this.cpu : ev.medium === 'DISK' ? this.disk : this.gpu;
      if (ev.type === 'BlockStored') for (const key of ev.blockHashes) tier.add(key, replica);
      else for (const key of ev.blockHashes) tier.remove(key, replica);
    }
  }

  /** Applies one replica's events given as a flat log (kv-event-log.ts), in order. */
  applyLog(replica: number, log: KvEventLog): void {
    for (let i = 0; i < log.length; i++) {
      const op = log.opAt(i);
      if (op === ALL_CLEARED) {
        this.clear(replica);
        continue;
      }
      const tier = op <= REMOVED_GPU ? this.gpu : op <= REMOVED_CPU ? this.cpu : this.disk;
      // Stored operations are even, removed ones odd (kv-event-log.ts).
      if ((op & 1) === 0) tier.add(log.keyAt(i), replica);
      else tier.remove(log.keyAt(i), replica);
    }
  }

  /** Forgets everything `replica` held (its cache was reset). */
  clear(replica: number): void {
    this.gpu.clear(replica);
    this.cpu.clear(replica);
    this.disk.clear(replica);
  }

  /** Per replica, the blocks of `keys` it holds in a row from the first (overlap scores), into `out`. */
  overlaps(keys: readonly number[], out: Int32Array): void {
    ReplicaSets.depths(this.tiers, keys, out);
  }

  /** Blocks (any tier) the index believes `replica` holds: Dynamo's tree size, its tie break. */
  blocksOf(replica: number): number {
    return this.gpu.sizes[replica]! + this.cpu.sizes[replica]! + this.disk.sizes[replica]!;
  }

  /** Distinct block keys known across the fleet, per tier. */
  get size(): { gpu: number; cpu: number; disk: number } {
    return { gpu: this.gpu.size, cpu: this.cpu.size, disk: this.disk.size };
  }
}
