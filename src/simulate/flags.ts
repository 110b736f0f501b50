/**
 * The flags only `simulate` has (its workload, trace and report), declared once: the CLI builds
 * its options, its help (grouped, each default shown) and its fallbacks from this table.
 */
import { TRACE_BLOCK_SIZE } from './trace-replay.js';

/** Headings of `simulate --help`, in the order they are printed (before the settings' groups). */
export const SIMULATE_GROUPS = {
  workload: 'Workload (closed loop unless --request-rate):',
  tenants: 'Multi-tenant workload:',
  lora: 'LoRA adapters (their own prefix cache, at most --max-gpu-loras per batch):',
  trace: 'Trace replay (instead of the synthetic workload):',
  report: 'Report:',
} as const;

export type SimulateGroup = keyof typeof SIMULATE_GROUPS;

export interface SimulateFlag {
  /** The flag without its dashes. */
  readonly name: string;
  /** Placeholder of its value in the help (`<n>`); absent for a switch. */
  readonly arg?: string;
  readonly help: string;
  /** Its value when not given, as the help shows it; absent when unset means off. */
  readonly default?: string;
  readonly group: SimulateGroup;
}

export const SIMULATE_FLAGS: readonly SimulateFlag[] = [
  {
    name: 'concurrency',
    arg: '<n>',
    help: 'sessions in flight at once',
    default: '1',
    group: 'workload',
  },
  {
    name: 'requests',
    arg: '<n>',
    help: 'requests in all, turns included',
    default: '100',
    group: 'workload',
  },
  {
    name: 'input-tokens',
    arg: '<n>',
    help: 'new prompt tokens per request',
    default: '200',
    group: 'workload',
  },
  {
    name: 'output-tokens',
    arg: '<n>',
    help: 'exact output tokens per request (EOS ignored)',
    default: '200',
    group: 'workload',
  },
  {
    name: 'input-tokens-stddev',
    arg: '<n>',
    help: 'σ of the prompt length (seeded normal, ≤ mean + 3σ)',
    default: '0',
    group: 'workload',
  },
  {
    name: 'output-tokens-stddev',
    arg: '<n>',
    help: 'σ of the output length, the same way',
    default: '0',
    group: 'workload',
  },
  {
    name: 'shared-prefix-tokens',
    arg: '<n>',
    help: 'tokens every prompt starts with',
    default: '0',
    group: 'workload',
  },
  {
    name: 'turns',
    arg: '<n>',
    help: 'turns per session, each resending the conversation',
    default: '1',
    group: 'workload',
  },
  {
    name: 'think-time-ms',
    arg: '<ms>',
    help: "mean pause (exponential) before a session's next turn",
    default: '0',
    group: 'workload',
  },
  {
    name: 'reasoning',
    arg: '<on|off>',
    help: "a reasoning model's turns reason first, dropped from the next prompt (default: on, Nemotron off)",
    group: 'workload',
  },
  {
    name: 'reasoning-effort',
    arg: '<level>',
    help: "gpt-oss's reasoning_effort: low, medium or high (scales --mean-reasoning-tokens)",
    group: 'workload',
  },
  {
    name: 'request-rate',
    arg: '<r>',
    help: 'open loop: Poisson arrivals of r sessions a second',
    group: 'workload',
  },
  {
    name: 'tenants',
    arg: '<n>',
    help: 'n tenants with their own system prompts (--shared-prefix-tokens long), Zipf-drawn users',
    group: 'tenants',
  },
  { name: 'users-per-tenant', arg: '<n>', help: 'users of each tenant', default: '100', group: 'tenants' },
  {
    name: 'tenant-zipf',
    arg: '<s>',
    help: "Zipf exponent of the tenants' popularity (0 = uniform)",
    default: '1',
    group: 'tenants',
  },
  {
    name: 'user-zipf',
    arg: '<s>',
    help: "Zipf exponent of the users' popularity in a tenant (0 = uniform)",
    default: '1',
    group: 'tenants',
  },
  {
    name: 'loras',
    arg: '<n>',
    help: 'sessions run with n adapters, each session one, Zipf-drawn',
    group: 'lora',
  },
  {
    name: 'lora-zipf',
    arg: '<s>',
    help: "Zipf exponent of the adapters' popularity (0 = uniform)",
    default: '1',
    group: 'lora',
  },
  {
    name: 'lora-rank',
    arg: '<r>',
    help: 'rank of every adapter, on every linear layer',
    default: '16',
    group: 'lora',
  },
  {
    name: 'trace',
    arg: '<file>',
    help: 'replay a Mooncake / AIPerf JSONL trace (.gz too) at its timestamps; --requests n: its first n lines',
    group: 'trace',
  },
  {
    name: 'trace-block-size',
    arg: '<n>',
    help: "tokens per hash_ids block of the trace (Mooncake's)",
    default: String(TRACE_BLOCK_SIZE),
    group: 'trace',
  },
  {
    name: 'slo-ttft-ms',
    arg: '<ms>',
    help: 'report the goodput: requests with a TTFT at most this (and within --slo-itl-ms)',
    group: 'report',
  },
  {
    name: 'slo-itl-ms',
    arg: '<ms>',
    help: 'report the goodput: requests with a mean inter-token latency at most this',
    group: 'report',
  },
  { name: 'json', help: 'print the JSON report instead of the table', group: 'report' },
  {
    name: 'html',
    arg: '<file>',
    help: 'also write the run as a self-contained HTML page (timelines, KV blocks, latencies)',
    group: 'report',
  },
];

/**
 * The flags a trace replay does not read: its lines say the lengths, the sessions and when each
 * request arrives. Given with `--trace`, one is refused (exit 2) rather than silently ignored.
 */
export const SYNTHETIC_ONLY_FLAGS: readonly string[] = SIMULATE_FLAGS.filter(
  (f) => f.group === 'workload' || f.group === 'tenants' || f.group === 'lora',
)
  .map((f) => f.name)
  .filter((name) => name !== 'requests');

/** The default of a flag of SIMULATE_FLAGS, as a number. */
export function simulateDefault(name: string): number {
  const flag = SIMULATE_FLAGS.find((f) => f.name === name);
  if (flag?.default === undefined) throw new Error(`simulate flag --${name} has no default`);
  return Number(flag.default);
}
