/**
 * Runs a planned generation's choices in the engine and multiplexes their events back to one
 * consumer. A client disconnect, or the failure of one choice to be queued, aborts every choice so
 * no slot or KV block is left behind.
 */
import type { Engine } from '../engine/engine.js';
import type { Fleet, FleetSubmitOptions } from '../fleet/fleet.js';
import type { EngineEvent } from '../engine/types.js';
import type { ClientSignal } from '../util/client-signal.js';
import type { PlannedGeneration } from './to-engine.js';

export type FinishedEvent = Extract<EngineEvent, { type: 'finished' }>;

export interface GenerationSink {
  onToken(choice: number, tokenIndex: number, tokenId: number, atMs: number): void;
  onFinished(choice: number, event: FinishedEvent): void;
  onFailed(choice: number, error: Error): void;
  /** Every choice has finished (or was aborted). */
  onDone(): void;
}

/**
 * Submits every choice; throws (after aborting the ones already queued) if the engine refuses one,
 * so the caller can answer with an error status before anything was sent.
 */
export function runGeneration(
  engine: Engine,
  gen: PlannedGeneration,
  sink: GenerationSink,
  clientSignal: ClientSignal,
): { abort(): void } {
  const aborts: (() => void)[] = [];
  const abort = () => {
    for (const a of aborts) a();
  };
  clientSignal.addEventListener('abort', abort, { once: true });
  let open = gen.choices.length;
  const closeOne = () => {
    open--;
    if (open === 0) {
      clientSignal.removeEventListener('abort', abort);
      sink.onDone();
    }
  };
  try {
    for (const choice of gen.choices) {
      let tokenIndex = 0;
      aborts.push(
        engine.submit(
          choice.request,
          (ev) => {
            switch (ev.type) {
              case 'tokens':
                for (const id of ev.ids) sink.onToken(choice.index, tokenIndex++, id, ev.atMs);
                break;
              case 'finished':
                sink.onFinished(choice.index, ev);
                closeOne();
                break;
              case 'failed':
                sink.onFailed(choice.index, ev.error);
                break;
              case 'scheduled':
                break;
            }
          },
          undefined,
          routing(engine, gen, TOKEN_EVENTS),
        ),
      );
    }
  } catch (err) {
    abort();
    clientSignal.removeEventListener('abort', abort);
    throw err;
  }
  if (clientSignal.aborted) abort();
  return { abort };
}

/** A non-streaming reply is built from the plan and the finish events; per-token events would be dropped. */
const NO_TOKEN_EVENTS: FleetSubmitOptions = { tokenEvents: false };
const TOKEN_EVENTS: FleetSubmitOptions = {};

/**
 * Submit options that record where a fleet routes the first choice on `gen`, and send the other
 * choices of the request to the same replica (a single engine ignores both).
 */
function routing(engine: Engine, gen: PlannedGeneration, base: FleetSubmitOptions): FleetSubmitOptions {
  // One engine: nothing to route, and no object per request.
  if (!isFleet(engine)) return base;
  if (gen.replica !== undefined) return { tokenEvents: base.tokenEvents, replica: gen.replica };
  return {
    tokenEvents: base.tokenEvents,
    onRouted: (r) => {
      gen.replica = r;
    },
  };
}

const isFleet = (engine: Engine): boolean => (engine as Partial<Fleet>).replicas !== undefined;

/**
 * The non-streaming form: resolves with every choice's finish event once all are done. The same
 * protocol as runGeneration (abort all on disconnect or on a refused submit), written out without
 * a sink: it runs for every non-streaming request.
 */
export function runToCompletion(
  engine: Engine,
  gen: PlannedGeneration,
  clientSignal: ClientSignal,
): Promise<{ finished: FinishedEvent[]; error: Error | undefined }> {
  return new Promise((resolve, reject) => {
    const finished: FinishedEvent[] = [];
    const aborts: (() => void)[] = [];
    let error: Error | undefined;
    let open = gen.choices.length;
    const abort = () => {
      for (const a of aborts) a();
    };
    clientSignal.addEventListener('abort', abort, { once: true });
    const listenerFor = (index: number) => (ev: EngineEvent) => {
      if (ev.type === 'finished') {
        finished[index] = ev;
        if (--open === 0) {
          clientSignal.removeEventListener('abort', abort);
          resolve({ finished, error });
        }
      } else if (ev.type === 'failed') {
        error ??= ev.error;
      }
    };
    try {
      for (const choice of gen.choices) {
        aborts.push(
          engine.submit(
            choice.request,
            listenerFor(choice.index),
            undefined,
            routing(engine, gen, NO_TOKEN_EVENTS),
          ),
        );
      }
    } catch (err) {
      abort();
      clientSignal.removeEventListener('abort', abort);
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (clientSignal.aborted) abort();
  });
}
