/**
 * Issue 2: the HTTP/engine overhead of nimsim compared with a bare Hono server.
 *
 *   npm run build && npx tsx load-tests/overhead.ts [--connections 32] [--duration 10] [--rounds 2]
 *     [--unique-prompts]
 *
 * Both servers run as child processes (the load generator must not share their event loop):
 * nimsim as `node dist/cli.js serve --time-scale 0` (no simulated waiting, so only its own CPU
 * cost is left) and load-tests/lib/bare-hono.ts (parse the body, answer a fixed chat.completion).
 * autocannon sends the same non-streaming chat request to each, alternating A/B `rounds` times so
 * that machine drift hits both alike, after a short warm-up of each. Prints requests/s, p50/p99
 * latency and the ratio nimsim / bare (target ≥ 0.5). Bounded: about 4 + 2 × rounds × duration s.
 * `--unique-prompts` gives every request its own prompt (both servers), so caches keyed on the
 * prompt (the tokenizer's encode cache, the prefix KV cache) cannot flatter nimsim. autocannon's
 * ids are long random strings, which the BPE tokenizer splits into many rare tokens: that run
 * measures mostly the tokenizer's cost on novel text.
 * The same measurement is the `overhead` scenario of `npm run load`.
 */
import { runOverheadBench, type OverheadRun } from './lib/overhead-bench.js';
import { intArg } from './lib/int-arg.js';

const connections = intArg('connections', 32);
const durationS = intArg('duration', 10);
const rounds = intArg('rounds', 2);
const uniquePrompts = process.argv.includes('--unique-prompts');
const WARMUP_S = 2;

const fmt = (x: number, digits = 0) => x.toFixed(digits).padStart(9);
const header = (first: string) =>
  `${first.padEnd(10)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}\n`;

const result = await runOverheadBench({
  connections,
  durationS,
  rounds,
  warmupS: WARMUP_S,
  uniquePrompts,
  onStart: () => {
    process.stdout.write(
      `overhead: ${connections} connections, ${durationS} s per run, ${rounds} rounds of nimsim/bare ` +
        `(+${WARMUP_S} s warm-up each)${uniquePrompts ? ', a unique prompt per request' : ''}\n\n${header('run')}`,
    );
  },
  onRun: (run: OverheadRun) => {
    const failed = run.failures > 0 ? `  (${run.failures} failed)` : '';
    process.stdout.write(
      `${run.target.padEnd(10)}${fmt(run.requestsPerS)}${fmt(run.p50Ms)}${fmt(run.p99Ms)}${failed}\n`,
    );
  },
});
process.stdout.write(`\n${header('mean')}`);
for (const target of ['nimsim', 'bare'] as const) {
  const m = result.mean[target];
  process.stdout.write(`${target.padEnd(10)}${fmt(m.requestsPerS)}${fmt(m.p50Ms)}${fmt(m.p99Ms)}\n`);
}
const failures = result.runs.reduce((a, r) => a + r.failures, 0);
process.stdout.write(
  `\nratio nimsim/bare requests/s: ${result.ratio.toFixed(3)} (target ≥ 0.5: ${result.ratio >= 0.5 ? 'met' : 'MISSED'})` +
    `${failures > 0 ? `; ${failures} failed requests` : ''}\n`,
);
