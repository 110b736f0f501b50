import { describe, expect, it } from 'vitest';
import { renderSvg, tradeOffChart } from '../../load-tests/lib/charts.js';
import { placeLabels } from '../../load-tests/lib/label-placement.js';
import {
  disaggSweepReport,
  workloadConclusions,
  type SplitRun,
  type SweepSetup,
} from '../../load-tests/scenarios/disagg-sweep-report.js';

const dist = (p90: number) => ({ mean: p90, p50: p90, p90, p99: p90 });

/** A run of 4 GPUs with the given goodput; disaggregated when `p` > 0. */
function run(
  split: string,
  p: number,
  goodputPerS: number,
  o: { ttftP90?: number; itlP90?: number; prefillBusy?: number; decodeQueueP90?: number } = {},
): SplitRun {
  return {
    workload: 'w',
    split,
    prefillReplicas: p,
    decodeReplicas: p === 0 ? 0 : 4 - p,
    gpus: 4,
    requests: 100,
    rejected: 0,
    ttftMs: dist(o.ttftP90 ?? 100),
    itlMs: dist(o.itlP90 ?? 8),
    requestsPerS: 20,
    goodputPerS,
    goodputFraction: goodputPerS / 20,
    ...(p > 0 && {
      disaggregation: {
        remotePrefills: 100,
        localPrefills: 0,
        kvTransferMs: dist(0.9),
        prefillUtilisation: o.prefillBusy ?? 0.5,
        decodeUtilisation: 0.99,
        prefillQueueMs: dist(10),
        decodeQueueMs: dist(o.decodeQueueP90 ?? 5),
      },
    }),
  };
}

describe('disaggregation sweep conclusions', () => {
  it('names one best split with its gain over aggregated, and why a collapsed split collapsed', () => {
    const c = workloadConclusions('prefill-heavy', [
      run('aggregated', 0, 7.36),
      run('1P:3D', 1, 0.3, { ttftP90: 26532.1, prefillBusy: 0.988 }),
      run('2P:2D', 2, 19.44),
    ]);
    expect(c).toEqual([
      "prefill-heavy: 2P:2D gives the most goodput per GPU, 4.86 req/s: 2.6 × the aggregated replicas' 1.84.",
      'prefill-heavy: 1P:3D falls to 0.07 req/s per GPU (TTFT p90 26532.1 ms, ITL p90 8.00 ms): its 1 prefill GPU ' +
        'is 98.8 % busy and prompts queue 10.0 ms (p90) for it.',
    ]);
  });

  it('never calls one split the best out of splits within 2 % of each other', () => {
    const c = workloadConclusions('decode-heavy', [
      run('aggregated', 0, 17),
      run('1P:3D', 1, 16.84),
      run('3P:1D', 3, 0.2, { decodeQueueP90: 7673 }),
    ]);
    expect(c[0]).toBe(
      'decode-heavy: aggregated and 1P:3D give the most goodput per GPU, 4.25 and 4.21 req/s (within 2 % of ' +
        'each other); disaggregating buys nothing here.',
    );
    expect(c[1]).toContain('requests queue 7673.0 ms (p90) for a slot on its 1 decode GPU');
  });

  it('says when no deployment met the objectives', () => {
    expect(workloadConclusions('w', [run('aggregated', 0, 0), run('2P:2D', 2, 0)])).toEqual([
      'w: no deployment met both objectives for any request.',
    ]);
  });

  it('checks that every run completed and moved KV blocks for its remote prefills', () => {
    const setup: SweepSetup = {
      gpus: 4,
      requests: 100,
      link: 'nvlink-4',
      slo: { ttftMs: 1000, itlMs: 10 },
      model: 'm',
      seed: 0,
    };
    const shapes = [{ name: 'w', inputTokens: 6000, outputTokens: 150, ratePerGpu: 5 }];
    const good = disaggSweepReport(setup, shapes, [run('aggregated', 0, 7), run('2P:2D', 2, 19)]);
    expect(good.checks.every((c) => c.ok)).toBe(true);
    expect(good.tables[0]!.rows[1]).toEqual([
      '2P:2D',
      '100.0',
      '100.0',
      '8.00',
      '8.00',
      '20.00',
      '95.0',
      '19.00',
      '4.75',
      '100 / 0',
      '0.900',
      '50.0 / 99.0',
      '10.0 / 5.0',
    ]);
    const short = disaggSweepReport(setup, shapes, [{ ...run('aggregated', 0, 7), requests: 90 }]);
    expect(short.checks.map((c) => c.ok)).toEqual([false]);
  });
});

describe('trade-off chart', () => {
  it('moves a label that would cover a neighbour to a free corner', () => {
    const plot = {
      width: 300,
      height: 240,
      xDomain: [10, 100000] as const,
      yDomain: [0, 22] as const,
      logX: true,
      logY: false,
    };
    // aggregated's label, to the right of its point, runs over 1P:3D's label.
    const corners = placeLabels(
      [
        { x: 40.4, y: 8.07, label: 'aggregated' },
        { x: 148.5, y: 7.53, label: '1P:3D' },
        { x: 66, y: 10.44, label: '2P:2D' },
      ],
      plot,
    );
    expect(corners).toEqual(['above-right', 'below-right', 'above-right']);
  });

  it('draws one panel per workload in the rows’ order, the objectives, and every label once', async () => {
    const rows = ['prefill-heavy', 'decode-heavy'].flatMap((workload) =>
      ['aggregated', '1P:3D', '2P:2D'].map((split, i) => ({
        workload,
        split,
        ttft: [150, 26000, 700][i]!,
        itl: [12.6, 5, 5.9][i]!,
      })),
    );
    const svg = await renderSvg(
      tradeOffChart({
        title: 'TTFT p90 against ITL p90 by split',
        subtitle: 'dashed: the objectives',
        rows,
        x: 'ttft',
        xTitle: 'TTFT p90 (ms)',
        y: 'itl',
        yTitle: 'ITL p90 (ms)',
        label: 'split',
        facet: 'workload',
        xLimit: 1000,
        yLimit: 10,
      }),
    );
    expect(svg.indexOf('prefill-heavy')).toBeLessThan(svg.indexOf('decode-heavy'));
    expect(svg).toContain('TTFT p90 (ms), log scale');
    // Each point's label once per panel (plus the legend's entry).
    for (const split of ['aggregated', '1P:3D', '2P:2D'])
      expect(svg.split(`>${split}</text>`).length - 1, split).toBe(3);
  });
});
