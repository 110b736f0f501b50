/**
 * `nimsim simulate`: drives the serving engine on a virtual clock with a closed-loop synthetic
 * workload and reports what a load tool's client would measure (docs/interface.md#simulate-report).
 * Same engine, timing model and cache as `serve`: only the clock differs.
 */
import type { Config } from '../config/config.js';
import { createRandom, hashSeed } from '../util/random.js';
import { createGrowingPromptBlockKeys } from '../engine/prompt-blocks.js';
import { createHarness } from './harness.js';
import { LoraMix, type LoraReport } from './loras.js';
import type { EngineLora } from '../engine/types.js';
import { tenantReport } from './tenant-report.js';
import type { SimulationReport } from './report.js';
import { TenantMix, type SessionOwner } from './tenants.js';
import { answerOf, maxLength, Session, sharedPrefixOf, type WorkloadOptions } from './workload.js';

export type { WorkloadOptions } from './workload.js';
export { formatReport } from './report.js';

export const SIMULATE_FLAGS = [
  { flag: '--concurrency <n>', help: 'closed-loop concurrency: sessions in flight at once (default 1)' },
  {
    flag: '--requests <n>',
    help: 'requests in total, turns included (default 100; with --trace, its first n lines)',
  },
  { flag: '--input-tokens <n>', help: 'new prompt tokens per request (default 200)' },
  { flag: '--output-tokens <n>', help: 'exact output tokens per request, EOS ignored (default 200)' },
  {
    flag: '--input-tokens-stddev <n>',
    help: 'standard deviation of the new prompt tokens across requests (seeded normal, within [1, mean + 3σ]; default 0)',
  },
  {
    flag: '--output-tokens-stddev <n>',
    help: 'standard deviation of the output tokens across requests (seeded normal, within [1, mean + 3σ]; default 0)',
  },
  { flag: '--shared-prefix-tokens <n>', help: 'tokens every prompt starts with (default 0)' },
  {
    flag: '--turns <n>',
    help: 'turns per multi-turn session; each resends the whole conversation (default 1)',
  },
  {
    flag: '--think-time-ms <n>',
    help: "mean simulated pause (exponential) before a session's next turn (default 0)",
  },
  {
    flag: '--request-rate <r>',
    help: 'open loop: sessions arrive as a seeded Poisson process at r per second (instead of --concurrency)',
  },
  {
    flag: '--slo-ttft-ms <ms>',
    help: 'report the goodput: requests with a TTFT at most this, and within --slo-itl-ms if given',
  },
  {
    flag: '--slo-itl-ms <ms>',
    help: 'report the goodput: requests whose mean inter-token latency is at most this (and within --slo-ttft-ms if given)',
  },
  {
    flag: '--trace <file>',
    help: 'replay a JSONL trace (Mooncake / AIPerf mooncake_trace lines) at its timestamps instead of a synthetic workload',
  },
  {
    flag: '--trace-block-size <n>',
    help: 'tokens per hash_ids block of the trace (default 512, as in Mooncake traces)',
  },
  {
    flag: '--tenants <n>',
    help: 'multi-tenant traffic: n tenants, each with its own system prompt of --shared-prefix-tokens; sessions are Zipf-drawn users of Zipf-drawn tenants, keyed by user',
  },
  { flag: '--users-per-tenant <n>', help: 'users of each tenant, with --tenants (default 100)' },
  {
    flag: '--tenant-zipf <s>',
    help: "Zipf exponent of the tenants' popularity, with --tenants (default 1; 0 = uniform)",
  },
  {
    flag: '--user-zipf <s>',
    help: "Zipf exponent of the users' popularity within a tenant, with --tenants (default 1; 0 = uniform)",
  },
  {
    flag: '--loras <n>',
    help: 'LoRA: sessions run with n adapters (each session one, Zipf-drawn), with their own prefix cache and at most --max-gpu-loras per batch',
  },
  {
    flag: '--lora-zipf <s>',
    help: "Zipf exponent of the adapters' popularity, with --loras (default 1; 0 = uniform)",
  },
  {
    flag: '--lora-rank <r>',
    help: 'rank of every adapter, on every linear layer, with --loras (default 16)',
  },
  { flag: '--json', help: 'print the JSON report' },
] as const;

/** A workload the simulated server would refuse outright (the CLI exits 2 with its message). */
export class WorkloadError extends Error {}

/** Retry delay after a 429 (queue full), in simulated ms, as a client honouring Retry-After would. */
const RETRY_AFTER_MS = 1000;

export function runSimulation(config: Config, workload: WorkloadOptions): SimulationReport {
  const harness = createHarness(config, workload.slo, workload.loras !== undefined);
  const { clock, runtime } = harness;
  // The last turn resends the whole conversation: a real server answers it with a context-length
  // 400, which would leave a report of zero requests. Say so instead.
  const longest =
    workload.sharedPrefixTokens +
    workload.turns *
      (maxLength(workload.inputTokens, workload.inputTokensStddev) +
        maxLength(workload.outputTokens, workload.outputTokensStddev));
  if (longest > runtime.maxModelLen) {
    throw new WorkloadError(
      `a session's last turn needs up to ${longest} tokens (--shared-prefix-tokens + --turns × (--input-tokens + --output-tokens), each at most mean + 3 × stddev), ` +
        `more than the context length of ${runtime.maxModelLen} tokens (the smaller of the model's or --max-model-len and what the KV cache holds)`,
    );
  }

  const mix = workload.tenants
    ? new TenantMix(workload.tenants, workload.sharedPrefixTokens, config.seed)
    : undefined;
  const loraMix = workload.loras
    ? new LoraMix(workload.loras, runtime.deployment.model, config.seed)
    : undefined;
  /** Each session's adapter (simulate --loras), by session index; each adapter's finished requests. */
  const sessionLoras: EngineLora[] = [];
  const doneByAdapter = new Array<number>(workload.loras?.adapters ?? 0).fill(0);
  const shared = mix ? [] : sharedPrefixOf(workload, config.seed);
  const answer = answerOf(workload, config.seed);
  // Users do not think for exactly the same time: exponential think times (seeded) also keep
  // sessions from marching in lockstep, which would make every turn's prefill land in one step.
  const thinkRng = createRandom(hashSeed(config.seed, 'think-time'));
  const thinkMs = () =>
    workload.thinkTimeMs > 0 ? -workload.thinkTimeMs * Math.log(1 - thinkRng.nextFloat()) : 0;
  const growingKeys = runtime.fleet
    ? createGrowingPromptBlockKeys(config.modelName, config.kvBlockSize)
    : undefined;
  let issued = 0;
  let sessions = 0;
  const openLoop = workload.requestRate !== undefined;

  const issue = (s: Session, owner?: SessionOwner) => {
    if (issued >= workload.requests) return;
    issued++;
    const prompt = s.nextPrompt();
    const output = s.nextOutput();
    const lora = sessionLoras[s.index];
    const onDone = () => {
      if (lora) doneByAdapter[lora.id - 1]!++;
      s.answered(output);
      // Closed loop: a finished session makes room for the next. Open loop: arrivals are fixed.
      if (s.done) {
        if (!openLoop) startSession();
      } else clock.schedule(clock.now() + thinkMs(), () => issue(s, owner));
    };
    // A fleet's router keys the prompt by its blocks: the session extends its last turn's keys.
    const promptBlockKeys = growingKeys ? () => growingKeys(s.blockKeys, prompt) : undefined;
    const extras =
      owner || promptBlockKeys || lora
        ? { sessionKey: owner?.sessionKey, tenant: owner?.tenant, promptBlockKeys, lora }
        : undefined;
    const submit = () => {
      if (harness.submit(`sim-${s.index}-${s.turn}`, prompt, output, s.turn + 1, onDone, extras)) return;
      // Queue full. A closed-loop user retries after Retry-After; an open-loop arrival is simply
      // lost, as a rate-based load tool counts it (the session ends).
      if (!openLoop) clock.schedule(clock.now() + RETRY_AFTER_MS, submit);
    };
    submit();
  };
  const startSession = () => {
    if (issued >= workload.requests) return;
    if (loraMix) sessionLoras[sessions] = loraMix.next();
    if (!mix) {
      issue(new Session(sessions++, workload, shared, answer, config.seed));
      return;
    }
    const owner = mix.next();
    issue(new Session(sessions++, workload, owner.systemPrompt, answer, config.seed), owner);
  };
  if (openLoop) {
    // Seeded exponential inter-arrival times: a Poisson process of sessions.
    const arrivals = createRandom(hashSeed(config.seed, 'arrivals'));
    const meanGapMs = 1000 / workload.requestRate!;
    let atMs = 0;
    for (let i = 0; i < Math.ceil(workload.requests / workload.turns); i++) {
      atMs += -meanGapMs * Math.log(1 - arrivals.nextFloat());
      clock.schedule(atMs, startSession);
    }
  } else {
    for (let i = 0; i < workload.concurrency; i++) startSession();
  }
  const report = harness.run();
  const withTenants = mix
    ? { ...report, by_tenant: tenantReport(harness.outcomes, mix.opts.tenants) }
    : report;
  return loraMix
    ? { ...withTenants, lora: loraReport(loraMix, config.maxGpuLoras, doneByAdapter) }
    : withTenants;
}

/** The adapters' account: their settings and each one's finished requests. */
function loraReport(mix: LoraMix, maxLoras: number, byAdapter: number[]): LoraReport {
  return {
    adapters: mix.opts.adapters,
    zipf: mix.opts.zipf,
    rank: mix.opts.rank,
    max_loras: maxLoras,
    adapter_params: mix.adapters[0]!.params,
    requests_by_adapter: byAdapter,
  };
}
