/**
 * What every `simulate` driver shares: the serving runtime on a virtual clock, the figures the
 * report needs (completed requests, preemptions, peak KV usage, 429s) and the report itself. The
 * drivers — the synthetic workload (simulate.ts) and trace replay (trace-replay.ts) — only decide
 * what to send and when.
 */
import type { Config } from '../config/config.js';
import { createVirtualClock, type VirtualClock } from '../engine/clock.js';
import { EngineError } from '../engine/errors.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { Outcomes } from './outcomes.js';
import type { FleetSubmitOptions } from '../fleet/fleet.js';
import type { EngineLora } from '../engine/types.js';
import { fleetReport } from './fleet-report.js';
import { isDisaggFleet } from '../fleet/disagg/disagg-fleet.js';
import type { DisaggMetadata } from '../fleet/disagg/disagg-runtime.js';
import { disaggReport } from './disagg-report.js';
import { buildReport, type SimulationReport, type Slo } from './report.js';

/** What a request carries besides its tokens (multi-tenant workloads). */
export interface SubmitExtras {
  /** Routing identity (`user` / `prompt_cache_key`): the session router keeps it on one replica. */
  readonly sessionKey?: string | undefined;
  /** Its tenant, for the report's per-tenant figures. */
  readonly tenant?: number | undefined;
  /**
   * The prompt's block keys under the model's seed, when the caller keeps them (a conversation
   * extends its last turn's): a fleet's router asks for them, and the engine's cache keys the
   * prompt with them instead of hashing it again. Only for a request without a LoRA adapter.
   */
  readonly promptBlockKeys?: (() => readonly number[]) | undefined;
  /** The LoRA adapter the request runs with (simulate --loras). */
  readonly lora?: EngineLora | undefined;
}

export interface Harness {
  readonly clock: VirtualClock;
  readonly runtime: Runtime;
  /** The completed requests so far (the report is built from them). */
  readonly outcomes: Outcomes;
  /**
   * Submits one request; its outcome is recorded as turn `turn` of its session, and `onDone` runs
   * when it finishes. Returns false, counting a 429, when the waiting queue is full.
   */
  submit(
    id: string,
    prompt: readonly number[],
    output: readonly number[],
    turn: number,
    onDone: () => void,
    extras?: SubmitExtras,
  ): boolean;
  /**
   * Runs the clock until nothing is left to do and reports; `onProgress`, when given, is called
   * every few thousand events (the same events in the same order: the report does not change).
   */
  run(onProgress?: (progress: SimulationProgress) => void): SimulationReport;
}

/** How far a run has got, for a progress line. */
export interface SimulationProgress {
  /** Simulated time so far (ms). */
  readonly simulatedMs: number;
  /** Requests finished. */
  readonly completed: number;
  /** Refusals with the queue full (429s) so far. */
  readonly rejected: number;
}

/** Events fired between two progress reports: a few milliseconds of wall time, the report itself far less. */
const EVENTS_PER_PROGRESS = 2000;

const NO_TOKEN_EVENTS: FleetSubmitOptions = { tokenEvents: false };

/**
 * What watches a run besides the report: told the runtime before anything is submitted, so it can
 * subscribe to the engines' events (`simulate --html`'s timeline, html-timeline.ts).
 */
export type RuntimeWatcher = (runtime: Runtime) => void;

/** What a harness is built with besides the configuration. */
export interface HarnessOptions {
  /** Told the runtime before anything is submitted. */
  readonly watch?: RuntimeWatcher | undefined;
  /** LoRA requests will come (simulate --loras). */
  readonly enableLora?: boolean | undefined;
}

/** `slo`: report the goodput against these objectives. */
export function createHarness(config: Config, slo?: Slo, opts: HarnessOptions = {}): Harness {
  const wallStart = performance.now();
  const clock = createVirtualClock();
  const runtime = createRuntime(config, {
    clock,
    defaultJitter: 0,
    keepSamples: true,
    enableLora: opts.enableLora === true,
  });
  opts.watch?.(runtime);
  const { engine, fleet } = runtime;
  const model = runtime.servedModels[0]!;
  const outcomes = new Outcomes();
  let peakKvUsage = 0;
  let preemptions = 0;
  let rejected = 0;
  runtime.observers.add({
    onStep(step) {
      preemptions += step.preemptions;
      if (step.kvUsage > peakKvUsage) peakKvUsage = step.kvUsage;
    },
  });

  return {
    clock,
    runtime,
    outcomes,
    submit(id, prompt, output, turn, onDone, extras) {
      // One engine's full queue refuses without an exception: an overloaded closed loop is
      // refused millions of times, and an EngineError costs ~8 µs to build (its stack trace) —
      // most of such a run's time. (A fleet's router is asked first, so its refusal is thrown.)
      if (!fleet && engine.waitingRoom() === 0) {
        rejected++;
        return false;
      }
      let replica = 0;
      try {
        (fleet ?? engine).submit(
          {
            id,
            promptTokenIds: prompt,
            outputTokenIds: output,
            finishReason: 'length',
            modelName: model,
            ...(extras?.sessionKey !== undefined ? { sessionKey: extras.sessionKey } : {}),
            ...(extras?.lora !== undefined ? { lora: extras.lora } : {}),
          },
          (ev) => {
            if (ev.type !== 'finished') return;
            // Only the outcome: keeping the event would keep every request's tokens alive to the end.
            outcomes.add(ev, turn, replica, extras?.tenant);
            onDone();
          },
          undefined,
          fleet
            ? {
                tokenEvents: false,
                onRouted: (r: number) => (replica = r),
                promptBlockKeys: extras?.promptBlockKeys,
              }
            : extras?.promptBlockKeys !== undefined && extras.lora === undefined
              ? { tokenEvents: false, blockKeys: extras.promptBlockKeys() }
              : NO_TOKEN_EVENTS,
        );
        return true;
      } catch (err) {
        if (!(err instanceof EngineError && err.kind === 'queue_full')) throw err;
        rejected++;
        return false;
      }
    },
    run(onProgress) {
      if (onProgress === undefined) clock.runUntilIdle();
      else
        while (clock.runSome(EVENTS_PER_PROGRESS))
          onProgress({ simulatedMs: clock.now(), completed: outcomes.length, rejected });
      const report = buildReport({
        outcomes,
        kvCache: engine.stats().kvCache,
        peakKvUsage,
        preemptions,
        rejected,
        wallMs: performance.now() - wallStart,
        deployment: runtime.metadata,
        slo,
      });
      if (!fleet) return report;
      const withFleet = { ...report, ...fleetReport(fleet, outcomes) };
      if (!isDisaggFleet(fleet)) return withFleet;
      const d = runtime.metadata['disaggregation'] as DisaggMetadata;
      return {
        ...withFleet,
        disaggregation: disaggReport(fleet, report.duration_s * 1000, d.kvTransferLink, {
          prefill: d.prefill.gpuCount,
          decode: d.decode.gpuCount,
        }),
      };
    },
  };
}
