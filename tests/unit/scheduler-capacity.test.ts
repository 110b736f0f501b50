/**
 * The two admission policies (src/engine/scheduler.ts): vLLM's admits on the prompt's blocks and
 * preempts when the cache runs short; TensorRT-LLM's GUARANTEED_NO_EVICT admits a request only when
 * its whole length (prompt + output) fits beside the running requests' whole lengths, and never
 * preempts.
 */
import { describe, expect, it } from 'vitest';
import type { FinishedRequest } from '../../src/engine/engine.js';
import type { CapacityPolicy } from '../../src/engine/scheduler.js';
import type { StepWork } from '../../src/engine/perf-model.js';
import { engineUnderTest } from '../helpers/engine-under-test.js';

function run(capacityPolicy: CapacityPolicy) {
  const steps: StepWork[] = [];
  let preemptions = 0;
  const { clock, engine } = engineUnderTest({
    // 40 blocks of 16 = 640 tokens; each request needs 64 + 256 = 320 tokens (20 blocks) at its end.
    kvCache: { gpuBlocks: 40, enableReuse: false },
    capacityPolicy,
    observer: {
      onStep: (s) => {
        steps.push(s.work);
        preemptions += s.preemptions;
      },
    },
  });
  const done: FinishedRequest[] = [];
  for (let r = 0; r < 4; r++) {
    engine.submit(
      {
        id: `r${r}`,
        promptTokenIds: Array.from({ length: 64 }, (_, i) => r * 1000 + i),
        outputTokenIds: Array.from({ length: 256 }, (_, i) => 50_000 + i),
        finishReason: 'length',
        modelName: 'm',
      },
      (ev) => {
        if (ev.type === 'finished') done.push(ev);
      },
    );
  }
  clock.runUntilIdle();
  const peakBatch = Math.max(...steps.map((w) => w.decodeSeqs + w.prefillChunks.length));
  return { done, preemptions, peakBatch };
}

describe('admission policies', () => {
  it("vLLM's admits all four prompts at once and preempts when their outputs outgrow the cache", () => {
    const r = run('vllm');
    expect(r.done).toHaveLength(4);
    expect(r.peakBatch).toBe(4);
    expect(r.preemptions).toBeGreaterThan(0);
  });

  it('guaranteed-no-evict runs only as many as fit at full length (two), and never preempts', () => {
    const r = run('guaranteed-no-evict');
    expect(r.done).toHaveLength(4);
    expect(r.peakBatch).toBe(2);
    expect(r.preemptions).toBe(0);
    expect(r.done.every((d) => d.preemptions === 0)).toBe(true);
  });
});
