/**
 * `nimsim simulate`: drives the serving engine on a virtual clock with a closed-loop synthetic
 * workload and reports what a load tool's client would measure (docs/interface.md#simulate-report).
 * Same engine, timing model and cache as `serve`: only the clock differs.
 */
import type { Config } from '../config/config.js';
import { createRandom, hashSeed } from '../util/random.js';
import { createGrowingPromptBlockKeys, prefixBlockKeys } from '../engine/prompt-blocks.js';
import { createHarness, type RuntimeWatcher, type SimulationProgress } from './harness.js';
import { LoraMix, type LoraReport } from './loras.js';
import type { EngineLora } from '../engine/types.js';
import { tenantReport } from './tenant-report.js';
import type { SimulationReport } from './report.js';
import { TenantMix, type SessionOwner } from './tenants.js';
import {
  answerOf,
  maxLength,
  reasoningOf,
  Session,
  sharedPrefixOf,
  type WorkloadOptions,
} from './workload.js';
import { maxReasoningTokens, ReasoningTally } from './reasoning.js';

export type { WorkloadOptions } from './workload.js';
export { formatReport } from './report.js';
export type { SimulationProgress } from './harness.js';

/** A workload the simulated server would refuse outright (the CLI exits 2 with its message). */
export class WorkloadError extends Error {}

/** Retry delay after a 429 (queue full), in simulated ms, as a client honouring Retry-After would. */
const RETRY_AFTER_MS = 1000;

/** What watches a run besides its report. */
export interface SimulationHooks {
  /** Told how far the run has got every few thousand events (a progress line). */
  readonly onProgress?: ((progress: SimulationProgress) => void) | undefined;
  /** Told the runtime before anything is submitted (simulate --html). */
  readonly watch?: RuntimeWatcher | undefined;
}

export function runSimulation(
  config: Config,
  workload: WorkloadOptions,
  hooks: SimulationHooks = {},
): SimulationReport {
  const harness = createHarness(config, workload.slo, {
    watch: hooks.watch,
    enableLora: workload.loras !== undefined,
  });
  const { clock, runtime } = harness;
  // The last turn resends the whole conversation: a real server answers it with a context-length
  // 400, which would leave a report of zero requests. Say so instead. Earlier turns' reasoning is
  // not resent (reasoning.ts): only the last turn's own counts.
  const longestReasoning = maxReasoningTokens(workload.reasoning);
  const longest =
    workload.sharedPrefixTokens +
    workload.turns *
      (maxLength(workload.inputTokens, workload.inputTokensStddev) +
        maxLength(workload.outputTokens, workload.outputTokensStddev)) +
    longestReasoning;
  if (longest > runtime.maxModelLen) {
    const reasoning = workload.reasoning ? ' + the longest reasoning' : '';
    throw new WorkloadError(
      `a session's last turn needs up to ${longest} tokens (prefix + turns × (input + output)${reasoning}), ` +
        `over the context length of ${runtime.maxModelLen} tokens (model, KV cache)`,
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
  const thought = reasoningOf(workload, config.seed, longestReasoning);
  const reasoningTally = workload.reasoning ? new ReasoningTally() : undefined;
  // Users do not think for exactly the same time: exponential think times (seeded) also keep
  // sessions from marching in lockstep, which would make every turn's prefill land in one step.
  const thinkRng = createRandom(hashSeed(config.seed, 'think-time'));
  const thinkMs = () =>
    workload.thinkTimeMs > 0 ? -workload.thinkTimeMs * Math.log(1 - thinkRng.nextFloat()) : 0;
  // Each prompt's block keys, computed as the session grows (each turn hashes only its new tokens)
  // and sent with the request: a fleet's router reads them, and no engine's cache hashes the
  // conversation's history again. A shared prefix's keys are hashed once for every session.
  const growingKeys = createGrowingPromptBlockKeys(config.modelName, config.kvBlockSize);
  const prefixKeys = new Map<readonly number[], number[]>();
  const keysOfPrefix = (prefix: readonly number[]) => {
    let keys = prefixKeys.get(prefix);
    if (!keys) {
      keys = prefixBlockKeys(config.modelName, config.kvBlockSize, prefix);
      prefixKeys.set(prefix, keys);
    }
    return keys;
  };
  let issued = 0;
  let sessions = 0;
  const openLoop = workload.requestRate !== undefined;

  const issue = (s: Session, owner?: SessionOwner) => {
    if (issued >= workload.requests) return;
    issued++;
    const prompt = s.nextPrompt();
    const output = s.nextOutput();
    const reasoningTokens = s.reasoningTokens;
    const lora = sessionLoras[s.index];
    const onDone = () => {
      if (lora) doneByAdapter[lora.id - 1]!++;
      reasoningTally?.add(s.turn + 1, reasoningTokens);
      s.answered(output);
      // Closed loop: a finished session makes room for the next. Open loop: arrivals are fixed.
      if (s.done) {
        if (!openLoop) startSession();
      } else clock.schedule(clock.now() + thinkMs(), () => issue(s, owner));
    };
    // The session extends its last turn's keys (a LoRA request's cache keys are its adapter's own).
    const promptBlockKeys = lora ? undefined : () => growingKeys(s.blockKeys, prompt);
    const extras = { sessionKey: owner?.sessionKey, tenant: owner?.tenant, promptBlockKeys, lora };
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
      issue(new Session(sessions++, workload, shared, answer, config.seed, thought, keysOfPrefix(shared)));
      return;
    }
    const owner = mix.next();
    const prefix = owner.systemPrompt;
    issue(
      new Session(sessions++, workload, prefix, answer, config.seed, thought, keysOfPrefix(prefix)),
      owner,
    );
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
  const report = harness.run(hooks.onProgress);
  const reasoned = reasoningTally ? reasoningTally.addTo(report, workload.reasoning!) : report;
  const withTenants = mix
    ? { ...reasoned, by_tenant: tenantReport(harness.outcomes, mix.opts.tenants) }
    : reasoned;
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
