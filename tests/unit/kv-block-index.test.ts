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
