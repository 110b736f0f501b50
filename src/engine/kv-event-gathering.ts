/**
 * The engine's KV events, gathered from its cache for its observer: the cache builds them only
 * while someone listens, in the form the listeners asked for — full events (with or without the
 * blocks' token ids), or only their keys in a flat log (kv-event-log.ts) when every listener reads
 * no more — and they go out as one batch per engine step that changed the cache (vLLM publishes
 * one KVEventBatch per step).
 */
import type { EngineObserver } from './engine-types.js';
import type { KvCacheManager } from './kv-cache/kv-cache-api.js';
import { KvEventLog } from './kv-event-log.js';
import type { KvEvent } from './kv-events.js';

/** The `events` of a batch that carries its events as a log. */
const NO_KV_EVENTS: readonly KvEvent[] = [];

export class KvEventGathering {
  /** The KV events of the step being planned (the cache appends to it), or null when nobody listens. */
  private events: KvEvent[] | null = null;
  /** Whether the events carry their blocks' token ids (someone listening wants them). */
  private withTokens = false;
  /** Instead of `events`, their keys only, while every listener takes that (observesKvEventLog). */
  private log: KvEventLog | null = null;

  constructor(
    private readonly kv: KvCacheManager,
    private readonly observer: EngineObserver | undefined,
  ) {}

  /** Asked once per step (and per reset): the cache builds events only while someone listens. */
  watch(atMs: number): void {
    const { observer } = this;
    const on = observer?.observesKvEvents ? observer.observesKvEvents() : observer?.onKvEvents !== undefined;
    const asLog = on && observer?.observesKvEventLog?.() === true;
    if (asLog !== (this.log !== null)) {
      // What was gathered before the switch goes out in the form its listeners asked for.
      this.flush(atMs);
      this.log = asLog ? new KvEventLog() : null;
      this.events = null;
      this.withTokens = false;
      this.kv.setEventSink(this.log, false);
    }
    if (asLog) return;
    const tokens = on && (observer?.observesKvEventTokens?.() ?? true);
    if (on === (this.events !== null) && tokens === this.withTokens) return;
    if (on !== (this.events !== null)) this.events = on ? [] : null;
    this.withTokens = tokens;
    this.kv.setEventSink(this.events, tokens);
  }

  /** Hands the events gathered since the last flush to the observer, as one batch at `atMs`. */
  flush(atMs: number): void {
    if (this.log !== null) {
      if (this.log.length === 0) return;
      this.observer?.onKvEvents?.({ atMs, events: NO_KV_EVENTS, log: this.log });
      this.log.clear();
      return;
    }
    if (this.events === null || this.events.length === 0) return;
    const events = this.events;
    this.events = [];
    this.kv.setEventSink(this.events, this.withTokens);
    this.observer?.onKvEvents?.({ atMs, events });
  }
}
