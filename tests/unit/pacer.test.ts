import { describe, expect, it } from 'vitest';

import { ApiError } from '../../src/serving/errors.js';
import { Pacer, SLICE_MS } from '../../src/serving/pacer.js';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
};

describe('Pacer', () => {
  it('is due once a slice of wall time has passed, and a pause starts a new slice', async () => {
    const pacer = new Pacer();
    expect(pacer.due()).toBe(false);
    busy(SLICE_MS + 1);
    expect(pacer.due()).toBe(true);
    await pacer.pause();
    expect(pacer.due()).toBe(false);
  });

  it('lets I/O callbacks run during a pause (a macrotask, not a microtask)', async () => {
    let ran = false;
    setImmediate(() => (ran = true));
    await Promise.resolve();
    expect(ran).toBe(false);
    await new Pacer().pause();
    expect(ran).toBe(true);
  });

  it('stops with 499 once the client has gone away', async () => {
    const controller = new AbortController();
    const pacer = new Pacer(controller.signal);
    await pacer.pause();
    controller.abort();
    const err = await pacer.pause().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(499);
  });
});
