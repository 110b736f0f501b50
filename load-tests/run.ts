/**
 * The load kit's entry point:
 *
 *   npm run load -- --scenario <name> [--quick] [--out DIR] [--url http://127.0.0.1:8000]
 *     [--allow-remote] [--model M] [--api-key K] [--target-time-scale S] [--trace FILE] [--seed N]
 *     [--no-progress]
 *
 * Runs one scenario (scenarios/*.ts; `--help` lists them), writes DIR/report.json, DIR/report.md
 * and the SVG charts, prints the markdown's path and the checks, and exits 1 when a sanity check
 * failed or the `--url` target cannot be reached, 2 on bad arguments (including a `--model` the
 * target does not serve).
 */
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { promptText } from './lib/prompts.js';
import { writeReport } from './lib/report.js';
import { DEFAULT_MODEL, type Scenario, type ScenarioContext } from './lib/scenario.js';
import { parseTarget } from './lib/target.js';
import { checkTarget } from './lib/target-check.js';
import { cacheStrategies } from './scenarios/cache-strategies.js';
import { disaggSweep } from './scenarios/disagg-sweep.js';
import { multiTurn } from './scenarios/multi-turn.js';
import { overhead } from './scenarios/overhead.js';
import { poisson } from './scenarios/poisson.js';
import { routing } from './scenarios/routing.js';
import { smoke } from './scenarios/smoke.js';
import { streams1k } from './scenarios/streams-1k.js';
import { sweep } from './scenarios/sweep.js';
import { trace } from './scenarios/trace.js';

const SCENARIOS: readonly Scenario[] = [
  smoke,
  sweep,
  poisson,
  multiTurn,
  cacheStrategies,
  routing,
  disaggSweep,
  trace,
  overhead,
  streams1k,
];

function usage(): string {
  return [
    'usage: npm run load -- --scenario <name> [--quick] [--out DIR] [--url URL] [--allow-remote]',
    '         [--model M] [--api-key K] [--target-time-scale S] [--trace FILE] [--seed N] [--no-progress]',
    '',
    'scenarios:',
    ...SCENARIOS.map((s) => `  ${s.name.padEnd(18)}${s.summary}`),
    '',
    'Without --url a scenario starts nimsim itself (needs `npm run build`). --url must be loopback',
    'unless --allow-remote is given. See load-tests/README.md.',
  ].join('\n');
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${usage()}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        scenario: { type: 'string' },
        quick: { type: 'boolean', default: false },
        out: { type: 'string' },
        url: { type: 'string' },
        'allow-remote': { type: 'boolean', default: false },
        model: { type: 'string', default: DEFAULT_MODEL },
        'api-key': { type: 'string' },
        'target-time-scale': { type: 'string', default: '1' },
        trace: { type: 'string' },
        seed: { type: 'string', default: '0' },
        'no-progress': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const scenario = SCENARIOS.find((s) => s.name === values.scenario);
  if (scenario === undefined) fail(`--scenario: expected one of ${SCENARIOS.map((s) => s.name).join(', ')}`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) fail('--seed must be a non-negative integer');
  const targetTimeScale = Number(values['target-time-scale']);
  if (!(targetTimeScale > 0)) fail('--target-time-scale must be > 0');
  if (values.url !== undefined) {
    // Refuse a bad or non-loopback URL up front, as a usage error.
    let target;
    try {
      target = parseTarget(values.url, {
        model: values.model,
        apiKey: values['api-key'],
        allowRemote: values['allow-remote'],
      });
    } catch (err) {
      fail((err as Error).message);
    }
    // Then ask the target itself: a dead port exits 1, a wrong model or key 2, with one line.
    const problem = await checkTarget(target);
    if (problem !== undefined) {
      process.stderr.write(`${scenario.name}: ${problem.message}\n`);
      process.exit(problem.exitCode);
    }
  }
  const outDir = values.out ?? join('reports', scenario.name);
  const ctx: ScenarioContext = {
    quick: values.quick,
    seed,
    url: values.url,
    allowRemote: values['allow-remote'],
    model: values.model,
    apiKey: values['api-key'],
    targetTimeScale,
    tracePath: values.trace,
    progress: !values['no-progress'],
    log: (m) => process.stderr.write(`${m}\n`),
  };
  // Build the prompt word pool (loads the tokenizer, ~0.5 s) before any measured phase.
  promptText(1, 0);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  let report;
  try {
    report = await scenario.run(ctx);
  } catch (err) {
    process.stderr.write(`${scenario.name}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const wallS = (performance.now() - t0) / 1000;
  await writeReport(outDir, report, { startedAt, wallS });
  const failed = report.checks.filter((c) => !c.ok);
  process.stdout.write(
    `${scenario.name}: ${wallS.toFixed(1)} s, report ${join(outDir, 'report.md')}\n` +
      report.checks.map((c) => `  ${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail}`).join('\n') +
      '\n',
  );
  if (failed.length > 0) {
    process.stderr.write(`${scenario.name}: ${failed.length} check(s) failed\n`);
    process.exit(1);
  }
}

await main();
