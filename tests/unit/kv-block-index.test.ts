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
  it('behaves as a Map from key to block under any sequence of adds, deletes and lookups', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 24 })),
        fc.array(opArb, { maxLength: 200, size: 'max' }),
        (capacity, ops) => {
          const keys = new Float64Array(capacity).fill(-1);
          const index = createBlockIndex(capacity, (blockId) => keys[blockId]!);
          const model = new Map<number, number>();
          const freeBlocks = Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
          for (const op of ops) {
            if (op.kind === 'add') {
              if (freeBlocks.length === 0) continue; // the pool never indexes more blocks than it has
              const blockId = freeBlocks[freeBlocks.length - 1]!;
              const added = index.add(op.key, blockId);
              expect(added).toBe(!model.has(op.key));
              if (added) {
                freeBlocks.pop();
                keys[blockId] = op.key;
                model.set(op.key, blockId);
              }
            } else if (op.kind === 'delete') {
              index.delete(op.key);
              const blockId = model.get(op.key);
              if (blockId !== undefined) {
                keys[blockId] = -1;
                freeBlocks.push(blockId);
                model.delete(op.key);
              }
            }
            expect(index.get(op.key)).toBe(model.get(op.key) ?? -1);
            expect(index.size).toBe(model.size);
          }
          for (const [key, blockId] of model) expect(index.get(key)).toBe(blockId);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuses a key that is already indexed and keeps the first block', () => {
    const keys = [5, 5];
    const index = createBlockIndex(2, (b) => keys[b]!);
    expect(index.add(5, 0)).toBe(true);
    expect(index.add(5, 1)).toBe(false);
    expect(index.get(5)).toBe(0);
    index.clear();
    expect(index.get(5)).toBe(-1);
    expect(index.size).toBe(0);
  });
});
