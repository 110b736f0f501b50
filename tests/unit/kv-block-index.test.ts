import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBlockIndex } from '../../src/engine/kv-cache/block-index.js';

/**
 * Keys below 2^53, drawn from a small pool so that home slots and whole keys collide often, and
 * small tables so that probe runs wrap around the end.
 */
const keyArb = fc.oneof(
  fc.integer({ min: 0, max: 15 }),
  fc.integer({ min: 0, max: 70 }),
  fc.constantFrom(2 ** 32, 2 ** 32 + 1, 2 ** 52 + 7, 2 ** 53 - 1, 16 * 2 ** 32 + 16),
);

type Op = { kind: 'add'; key: number } | { kind: 'delete'; key: number } | { kind: 'get'; key: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), key: keyArb }),
  fc.record({ kind: fc.constant('delete' as const), key: keyArb }),
  fc.record({ kind: fc.constant('get' as const), key: keyArb }),
);

describe('block index', () => {
  it('behaves as a map from key to its blocks in insertion order, under any adds, deletes and lookups', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 24 })),
        fc.array(opArb, { maxLength: 200, size: 'max' }),
        (capacity, ops) => {
          const keys = new Float64Array(capacity).fill(-1);
          const index = createBlockIndex(capacity, (blockId) => keys[blockId]!);
          /** key → its blocks, oldest first (vLLM's dict of block id → block keeps that order). */
          const model = new Map<number, number[]>();
          const freeBlocks = Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
          let size = 0;
          for (const op of ops) {
            const blocks = model.get(op.key) ?? [];
            if (op.kind === 'add') {
              if (freeBlocks.length === 0) continue; // the pool never indexes more blocks than it has
              const blockId = freeBlocks.pop()!;
              index.add(op.key, blockId);
              keys[blockId] = op.key;
              model.set(op.key, [...blocks, blockId]);
              size++;
            } else if (op.kind === 'delete') {
              // Evict one of the key's blocks: the middle one, so order inside a key is exercised.
              const blockId = blocks[Math.floor(blocks.length / 2)];
              if (blockId === undefined) {
                index.delete(op.key, capacity + 1); // a block that is not there: nothing happens
              } else {
                index.delete(op.key, blockId);
                keys[blockId] = -1;
                freeBlocks.push(blockId);
                model.set(
                  op.key,
                  blocks.filter((b) => b !== blockId),
                );
                size--;
              }
            }
            expect(index.get(op.key)).toBe(model.get(op.key)?.[0] ?? -1);
            expect(index.size).toBe(size);
          }
          for (const [key, blocks] of model) expect(index.get(key)).toBe(blocks[0] ?? -1);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('keeps many copies of one key in insertion order, whichever copy is deleted (model: Map<key, ids[]>)', () => {
    // Most operations on one key, as when a server answers one prompt over and over: copies pile up
    // and are evicted from the front, the middle and the end of the key's chain.
    const hotKeyArb = fc.oneof(
      { weight: 8, arbitrary: fc.constant(3) },
      { weight: 2, arbitrary: fc.constantFrom(3 + 1024, 3 + 2 * 1024, 2 ** 40 + 3) }, // same home as 3
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }) },
    );
    type CopyOp =
      | { kind: 'add'; key: number }
      | { kind: 'delete'; key: number; at: number }
      | { kind: 'get'; key: number };
    const copyOpArb: fc.Arbitrary<CopyOp> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), key: hotKeyArb }) },
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('delete' as const),
          key: hotKeyArb,
          at: fc.oneof(fc.constantFrom(0, -1), fc.nat()), // head, tail, or anywhere
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('get' as const), key: hotKeyArb }) },
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.array(copyOpArb, { minLength: 50, maxLength: 1500 }),
        (capacity, ops) => {
          const keys = new Float64Array(capacity).fill(-1);
          const index = createBlockIndex(capacity, (blockId) => keys[blockId]!);
          const model = new Map<number, number[]>();
          // Freed blocks are reused in a shuffled-looking order, not just the last one freed.
          const freeBlocks = Array.from({ length: capacity }, (_, i) => i);
          let size = 0;
          for (const op of ops) {
            const blocks = model.get(op.key) ?? [];
            if (op.kind === 'add' && freeBlocks.length > 0) {
              const blockId = freeBlocks.splice((size * 7) % freeBlocks.length, 1)[0]!;
              index.add(op.key, blockId);
              keys[blockId] = op.key;
              model.set(op.key, [...blocks, blockId]);
              size++;
            } else if (op.kind === 'delete' && blocks.length > 0) {
              const at = op.at === -1 ? blocks.length - 1 : op.at % blocks.length;
              const blockId = blocks[at]!;
              index.delete(op.key, blockId);
              index.delete(op.key, blockId); // a second delete of the same block does nothing
              keys[blockId] = -1;
              freeBlocks.push(blockId);
              blocks.splice(at, 1);
              if (blocks.length === 0) model.delete(op.key);
              size--;
            }
            expect(index.get(op.key)).toBe(model.get(op.key)?.[0] ?? -1);
            expect([index.size, index.keys]).toEqual([size, model.size]);
          }
          // Every key's chain, in order: delete the heads one by one and watch each successor take over.
          for (const [key, blocks] of model) {
            for (let i = 0; i < blocks.length; i++) {
              expect(index.get(key)).toBe(blocks[i]);
              index.delete(key, blocks[i]!);
            }
            expect(index.get(key)).toBe(-1);
          }
          expect([index.size, index.keys]).toEqual([0, 0]);
        },
      ),
      { numRuns: 150, seed: 7 },
    );
  });

  it('costs the same per operation with 5,000 copies of a key as with four (slots examined, keys compared)', () => {
    const capacity = 8192; // a table of 16,384 slots
    const HOT = 12_345;
    // Keys with HOT's home slot (same low bits of the digest): without the chains they would sit
    // behind every copy of HOT in its probe run.
    const NEIGHBOURS = [HOT + 16_384, HOT + 2 * 16_384, HOT + 3 * 16_384];
    const cost = (copies: number) => {
      const keys = new Float64Array(capacity).fill(-1);
      let compared = 0;
      const index = createBlockIndex(capacity, (blockId) => {
        compared++;
        return keys[blockId]!;
      });
      const add = (key: number, blockId: number) => {
        keys[blockId] = key;
        index.add(key, blockId);
      };
      const del = (key: number, blockId: number) => {
        index.delete(key, blockId);
        keys[blockId] = -1;
      };
      add(NEIGHBOURS[0]!, 8000);
      for (let c = 0; c < copies; c++) add(HOT, c);
      add(NEIGHBOURS[1]!, 8001);
      expect(index.size).toBe(copies + 2);
      /** Slots examined and keys compared by `op`. */
      const measure = (op: () => void) => {
        const slots = index.slotsExamined;
        const before = compared;
        op();
        return [index.slotsExamined - slots, compared - before];
      };
      return {
        getHot: measure(() => expect(index.get(HOT)).toBe(0)),
        getNeighbour: measure(() => expect(index.get(NEIGHBOURS[1]!)).toBe(8001)),
        getAbsentNeighbour: measure(() => expect(index.get(NEIGHBOURS[2]!)).toBe(-1)),
        addCopy: measure(() => add(HOT, 8100)),
        addNeighbour: measure(() => add(NEIGHBOURS[2]!, 8002)),
        deleteMiddleCopy: measure(() => del(HOT, copies / 2)),
        deleteTailCopy: measure(() => del(HOT, 8100)),
        deleteHead: measure(() => del(HOT, 0)),
        getAfterHead: measure(() => expect(index.get(HOT)).toBe(1)),
        deleteNeighbour: measure(() => del(NEIGHBOURS[0]!, 8000)),
        deleteLastCopyOfNeighbour: measure(() => del(NEIGHBOURS[1]!, 8001)),
        addCopyAgain: measure(() => add(HOT, copies)),
      };
    };
    const many = cost(5000);
    expect(many).toEqual(cost(4));
    // And each is a handful of slots and at most one key comparison per key on the way.
    for (const [slots, compared] of Object.values(many)) {
      expect(slots).toBeLessThanOrEqual(5);
      expect(compared).toBeLessThanOrEqual(1);
    }
  });

  it('rejects a block indexed twice or outside its capacity, and a delete under the wrong key', () => {
    const keys = [5, 6];
    const index = createBlockIndex(2, (b) => keys[b]!);
    index.add(5, 0);
    expect(() => index.add(5, 0)).toThrow('block 0 is already indexed');
    expect(() => index.add(5, 2)).toThrow('block 2 is outside 0 … 1');
    expect(() => index.delete(6, 0)).toThrow('block 0 is not indexed under key 6');
    index.delete(5, 1); // not indexed: nothing happens
    index.delete(5, -1);
    expect([index.size, index.keys, index.get(5)]).toEqual([1, 1, 0]);
  });

  it('keeps a second block under a taken key, and finds the first until it is deleted', () => {
    const keys = [5, 5];
    const index = createBlockIndex(2, (b) => keys[b]!);
    index.add(5, 0);
    index.add(5, 1);
    expect(index.size).toBe(2);
    expect(index.get(5)).toBe(0);
    index.delete(5, 0);
    expect(index.get(5)).toBe(1);
    index.clear();
    expect(index.get(5)).toBe(-1);
    expect(index.size).toBe(0);
  });
});
