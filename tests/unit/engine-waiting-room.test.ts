import { describe, expect, it } from 'vitest';

import { EngineError } from '../../src/engine/errors.js';
import { engineUnderTest } from '../helpers/engine-under-test.js';

const engineWith = (maxWaiting: number) => engineUnderTest({ maxWaiting });

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
