/**
 * The fleet's prefix index (src/fleet/prefix-index.ts) and the replica sets under it: built from
 * KV events alone, it must say for each replica how many of a prompt's blocks it holds in a row —
 * against a plain reference model under random events, and against real engines on the virtual
 * clock (the index must agree with what each replica's cache holds and what its lookup finds).
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/util/random.js';
import { createVirtualClock } from '../../src/engine/clock.js';
import type { Engine } from '../../src/engine/engine.js';
import type { KvEventBatch } from '../../src/engine/kv-events.js';
import type { PerfModel } from '../../src/engine/perf-model.js';
import { createPromptBlockKeys } from '../../src/engine/prompt-blocks.js';
import { PrefixIndex } from '../../src/fleet/prefix-index.js';
import { ReplicaSets } from '../../src/fleet/replica-sets.js';
import { engineUnderTest } from '../helpers/engine-under-test.js';

const stored = (keys: number[], medium: 'GPU' | 'CPU' = 'GPU'): KvEventBatch => ({
  atMs: 0,
  events: [
    { type: 'BlockStored', blockHashes: keys, parentBlockHash: null, tokenIds: [], blockSize: 4, medium },
  ],
});
const removed = (keys: number[], medium: 'GPU' | 'CPU' = 'GPU'): KvEventBatch => ({
  atMs: 0,
  events: [{ type: 'BlockRemoved', blockHashes: keys, medium }],
});

describe('replica sets', () => {
  it('match a reference multiset under random adds, removes and clears, past 32 replicas and table growth', () => {
    for (const counted of [false, true]) {
      const replicas = 40;
      const sets = new ReplicaSets(replicas, counted);
      const ref = new Map<string, number>();
      const rng = createRandom(7);
      // Large keys (up to 2^53) with colliding low bits too, to exercise probing and deletion.
      const pool = Array.from({ length: 3000 }, (_, i) =>
        i % 3 === 0 ? i * 2 ** 32 + 5 : rng.nextUint32() * 2 ** 21 + i,
      );
      const wrong: string[] = [];
      for (let step = 0; step < 20_000; step++) {
        const key = pool[rng.nextInt(pool.length)]!;
        const r = rng.nextInt(replicas);
        const id = `${key}/${r}`;
        const op = rng.nextFloat();
        if (op < 0.55) {
          if (sets.add(key, r) !== !ref.has(id)) wrong.push(`add ${id}`);
          ref.set(id, (ref.get(id) ?? 0) + 1);
        } else if (op < 0.999) {
          const held = ref.get(id) ?? 0;
          if (sets.remove(key, r) !== (held === 1)) wrong.push(`remove ${id}`);
          if (held > 1) ref.set(id, held - 1);
          else ref.delete(id);
        } else {
          sets.clear(r);
          for (const k of [...ref.keys()]) if (k.endsWith(`/${r}`)) ref.delete(k);
        }
      }
      expect(wrong).toEqual([]);
      for (const key of pool)
        for (let r = 0; r < replicas; r++)
          if (sets.has(key, r) !== ref.has(`${key}/${r}`)) wrong.push(`${key}/${r}`);
      expect(wrong).toEqual([]);
      for (let r = 0; r < replicas; r++)
        expect(sets.sizes[r]).toBe([...ref.keys()].filter((k) => k.endsWith(`/${r}`)).length);
    }
  });

  it('give each replica its run of keys from the first', () => {
    const sets = new ReplicaSets(35);
    const keys = [11, 22, 33, 44];
    for (const k of keys) sets.add(k, 0); // all four
    sets.add(11, 1); // the first only
    sets.add(22, 2); // not the first: nothing in a row
    for (const k of keys.slice(0, 3)) sets.add(k, 34);
    const out = new Int32Array(35).fill(-1);
    ReplicaSets.depths([sets], keys, out);
    expect([out[0], out[1], out[2], out[3], out[34]]).toEqual([4, 1, 0, 0, 3]);
  });
});

describe('prefix index', () => {
  it('follows stored, removed and cleared events per tier, a host block counting as held', () => {
    const index = new PrefixIndex(3);
    index.apply(0, stored([1, 2, 3]));
    index.apply(1, stored([1, 2]));
    index.apply(1, stored([3], 'CPU')); // block 3 offloaded to host: still found by a lookup
    index.apply(2, stored([1]));
    const out = new Int32Array(3);
    index.overlaps([1, 2, 3, 4], out);
    expect([...out]).toEqual([3, 3, 1]);
    index.apply(0, removed([2])); // a hole ends the run
    index.apply(1, { atMs: 0, events: [{ type: 'AllBlocksCleared' }] });
    index.overlaps([1, 2, 3, 4], out);
    expect([...out]).toEqual([1, 0, 1]);
    expect(index.blocksOf(0)).toBe(2);
  });

  it('keeps a key two GPU blocks hold until both are removed', () => {
    const index = new PrefixIndex(1);
    index.apply(0, stored([5]));
    index.apply(0, stored([5]));
    index.apply(0, removed([5]));
    const out = new Int32Array(1);
    index.overlaps([5], out);
    expect(out[0]).toBe(1);
    index.apply(0, removed([5]));
    index.overlaps([5], out);
    expect(out[0]).toBe(0);
  });

  it.each([
    ['a host tier', { hostBlocks: 10, diskBlocks: 0 }],
    ['host and disk tiers', { hostBlocks: 4, diskBlocks: 12 }],
  ])(
    "agrees with real replicas with %s: the overlap it predicts is what each replica's lookup finds",
    (_, tiers) => {
      const BLOCK = 4;
      const clock = createVirtualClock();
      const perf: PerfModel = { stepMs: () => 5 };
      const index = new PrefixIndex(3);
      const engines: Engine[] = [0, 1, 2].map(
        (r) =>
          engineUnderTest({
            clock,
            perf,
            kvCache: { blockSize: BLOCK, gpuBlocks: 40, ...tiers },
            maxNumSeqs: 4,
            maxNumBatchedTokens: 64,
            maxWaiting: 100,
            observer: { onKvEvents: (b) => index.apply(r, b) },
          }).engine,
      );
      const keysOf = createPromptBlockKeys('m', BLOCK);
      const rng = createRandom(3);
      const prefixes = Array.from({ length: 6 }, (_, p) =>
        Array.from({ length: 8 + 4 * p }, (_, i) => 1000 * p + i),
      );
      let checked = 0;
      for (let i = 0; i < 300; i++) {
        const prompt = prefixes[rng.nextInt(prefixes.length)]!.concat(
          Array.from({ length: 1 + rng.nextInt(9) }, () => rng.nextInt(50_000)),
        );
        const r = rng.nextInt(3);
        const keys = keysOf(prompt);
        const predicted = new Int32Array(3);
        index.overlaps(keys, predicted);
        // Nothing runs between two requests here: the replica's lookup finds exactly the predicted run.
        engines[r]!.submit(
          {
            id: `q${i}`,
            promptTokenIds: prompt,
            outputTokenIds: [1, 2, 3, 4, 5],
            finishReason: 'length',
            modelName: 'm',
          },
          (ev) => {
            if (ev.type !== 'scheduled') return;
            expect(ev.cachedTokens).toBe(predicted[r]! * BLOCK);
            checked++;
          },
          undefined,
          { tokenEvents: false },
        );
        clock.runUntilIdle();
      }
      expect(checked).toBe(300);
      // And the index holds per replica exactly the keys the replica's cache holds (every tier).
      for (let r = 0; r < 3; r++) {
        const { gpu, host, disk = [] } = engines[r]!.cachedBlockKeys();
        expect(index.blocksOf(r)).toBe(new Set(gpu).size + new Set(host).size + new Set(disk).size);
        if (tiers.diskBlocks > 0) expect(disk.length).toBeGreaterThan(0);
      }
    },
  );
});
