import { describe, expect, it } from 'vitest';

import { createVirtualClock } from '../../src/engine/clock.js';
import { createEngine } from '../../src/engine/engine.js';
import { EngineError } from '../../src/engine/errors.js';
import { createKvCacheManager } from '../../src/engine/kv-cache/kv-cache-manager.js';

function engineWith(maxWaiting: number) {
  const clock = createVirtualClock();
  const kv = createKvCacheManager({
    blockSize: 16,
    gpuBlocks: 1000,
    hostBlocks: 0,
    eviction: 'lru',
    enableReuse: true,
    modelKey: 'test',
  });
  const engine = createEngine({
    clock,
    perf: { stepMs: () => 10 },
    kv,
    maxNumSeqs: 256,
    maxNumBatchedTokens: 8192,
    maxWaiting,
    jitter: () => 1,
  });
  return { clock, engine };
}

const request = (id: string) => ({
  id,
  promptTokenIds: [1, 2, 3],
  outputTokenIds: [4, 5],
  finishReason: 'length' as const,
  modelName: 'm',
});

describe('engine.waitingRoom', () => {
  it('is how many more submits the waiting queue takes before queue_full', () => {
    const { clock, engine } = engineWith(3);
    expect(engine.waitingRoom()).toBe(3);
    for (let i = 0; i < 3; i++) engine.submit(request(`r${i}`), () => {});
    expect(engine.waitingRoom()).toBe(0);
    expect(() => engine.submit(request('r3'), () => {})).toThrow(EngineError);
    // Admitted into the running set, they leave the waiting queue.
    clock.runUntilIdle();
    expect(engine.waitingRoom()).toBe(3);
  });

  it('is 0 with a waiting queue of 0, like submit', () => {
    const { engine } = engineWith(0);
    expect(engine.waitingRoom()).toBe(0);
    expect(() => engine.submit(request('r'), () => {})).toThrow(EngineError);
  });
});
