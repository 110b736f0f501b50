/**
 * The HTTP/engine overhead of nimsim compared with a bare Hono server, and whether it holds as
 * nimsim runs.
 *
 *   npm run build && npx tsx load-tests/overhead.ts [--connections 32] [--window 10] [--windows 6]
 *     [--warmup-requests 10000] [--unique-prompts] [--log-level INFO] [--check]
 *
 * Both servers run as child processes for the whole run (the load generator must not share their
 * event loop): nimsim as `node dist/cli.js serve --time-scale 0` (no simulated waiting, so only its
 * own CPU cost is left; log level INFO by default, as it ships, its stderr a pipe this process
 * drains) and load-tests/lib/bare-hono.ts (parse the body, answer a fixed chat.completion).
 * autocannon sends the same non-streaming chat request to each in alternating windows — nimsim,
 * bare, nimsim, bare… `--windows` of each, `--window` seconds long, after a warm-up of each (a request count) — so
 * nimsim accumulates its cache state across its windows while machine drift hits both alike.
 * Prints per window both rates, their ratio and each server's CPU per request; then the
 * steady-state ratio (mean of the window ratios after the first; target ≥ 0.5, ≥ 0.35 with
 * `--unique-prompts`) and nimsim's last window ÷ its first (target ≥ 0.9). The targets are
 * reported, not asserted; `--check` exits 1 when the last nimsim window is below 0.8 × the first
 * (the CI check). Bounded: about 2 × windows × window s plus the warm-up and start-up.
 * `--unique-prompts` gives every request its own prompt (both servers), so caches keyed on the
 * prompt (the tokenizer's encode cache, the prefix KV cache) cannot flatter nimsim. autocannon's
 * ids are long random strings, which the BPE tokenizer splits into many rare tokens: that run
 * measures mostly the tokenizer's cost on novel text.
 * The same measurement is the `overhead` scenario of `npm run load`.
 */
import { parseArgs } from 'node:util';
import { runOverheadBench } from './lib/overhead-bench.js';
import { summaryLines, WINDOW_HEADER, windowLine } from './lib/overhead-text.js';
import { slowedDown } from './lib/overhead-windows.js';

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];

function usageError(message: string): never {
  process.stderr.write(`overhead: ${message}\n`);
  process.exit(2);
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) usageError(`--${name} must be a positive integer`);
  return n;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      connections: { type: 'string', default: '32' },
      window: { type: 'string', default: '10' },
      windows: { type: 'string', default: '6' },
      'warmup-requests': { type: 'string', default: '10000' },
      'unique-prompts': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: 'INFO' },
      check: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (err) {
  usageError((err as Error).message);
}
const connections = positiveInt('connections', values.connections);
const windowS = positiveInt('window', values.window);
const windows = positiveInt('windows', values.windows);
const warmupRequests = positiveInt('warmup-requests', values['warmup-requests']);
const uniquePrompts = values['unique-prompts'];
const logLevel = values['log-level'].toUpperCase();
if (!LOG_LEVELS.includes(logLevel)) usageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);

const result = await runOverheadBench({
  connections,
  windowS,
  windows,
  warmupRequests,
  uniquePrompts,
  logLevel,
  onStart: () => {
    process.stdout.write(
      `overhead: ${connections} connections, ${windows} windows of ${windowS} s per server, alternating ` +
        `nimsim/bare (after ${warmupRequests} warm-up requests each), nimsim log level ${logLevel}` +
        `${uniquePrompts ? ', a unique prompt per request' : ''}\n\n${WINDOW_HEADER}\n`,
    );
  },
  onWindow: (pair) => process.stdout.write(`${windowLine(pair)}\n`),
});
process.stdout.write(
  `\n${summaryLines(result, uniquePrompts).join('\n')}\n` +
    `nimsim wrote ${(result.nimsimLogBytes / 1e6).toFixed(1)} MB to stderr at ${logLevel}\n`,
);
if (values.check && slowedDown(result)) process.exit(1);
