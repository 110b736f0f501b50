/**
 * The active requests' block tree of one replica (src/fleet/path-table.ts): under random paths
 * added and removed (shared prefixes, identical paths, paths ending inside others), its node count
 * and each path's depth must equal a plain reference: a count per key of the paths holding it.
 */
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../src/util/random.js';
import { PathTable } from '../../src/fleet/path-table.js';

describe('path table', () => {
  it('matches a per-key count of the paths holding each key, through table growth', () => {
    const rng = createRandom(11);
    // Paths are prefixes of a few long branches that fork from each other at random points, so
    // they share prefixes of every length; keys up to 2^53 with colliding low bits.
    const branches: number[][] = [];
    for (let b = 0; b < 40; b++) {
      const fork = branches.length > 0 ? branches[rng.nextInt(branches.length)]! : [];
      const at = rng.nextInt(fork.length + 1);
      const keys = fork.slice(0, at);
      while (keys.length < 60)
        keys.push(b % 4 === 0 ? (b * 100 + keys.length) * 2 ** 32 + 7 : rng.nextUint32() * 2 ** 21 + b);
      branches.push(keys);
    }
    const table = new PathTable();
    const ref = new Map<number, number>();
    const live: number[][] = [];
    const wrong: string[] = [];
    for (let step = 0; step < 6000; step++) {
      if (live.length > 0 && (rng.nextFloat() < 0.45 || live.length > 300)) {
        const path = live.splice(rng.nextInt(live.length), 1)[0]!;
        table.remove(path);
        for (const k of path) {
          const c = ref.get(k)! - 1;
          if (c === 0) ref.delete(k);
          else ref.set(k, c);
        }
      } else {
        const branch = branches[rng.nextInt(branches.length)]!;
        const path = branch.slice(0, rng.nextInt(branch.length + 1));
        let refDepth = 0;
        while (refDepth < path.length && ref.has(path[refDepth]!)) refDepth++;
        const depth = table.depth(path);
        if (depth !== refDepth) wrong.push(`step ${step}: depth ${depth}, reference ${refDepth}`);
        table.add(path, depth);
        for (const k of path) ref.set(k, (ref.get(k) ?? 0) + 1);
        live.push(path);
      }
      if (table.size !== ref.size) wrong.push(`step ${step}: size ${table.size}, reference ${ref.size}`);
      if (wrong.length > 5) break;
    }
    expect(wrong).toEqual([]);
    for (const path of live.splice(0)) table.remove(path);
    expect(table.size).toBe(0);
  });
});
