/**
 * Fans engine events out to observers added after the engine exists (metrics need the engine's
 * stats to be built, and the engine needs its observer at creation).
 */
import type { EngineObserver } from './engine.js';

export interface ObserverHub extends EngineObserver {
  add(observer: EngineObserver): void;
}

export function createObserverHub(): ObserverHub {
  const steps: NonNullable<EngineObserver['onStep']>[] = [];
  const tokens: NonNullable<EngineObserver['onToken']>[] = [];
  const tokenListeners: EngineObserver[] = [];
  const finished: NonNullable<EngineObserver['onFinished']>[] = [];
  const kvListeners: EngineObserver[] = [];
  return {
    add(o) {
      if (o.onStep) steps.push(o.onStep.bind(o));
      if (o.onToken) {
        tokens.push(o.onToken.bind(o));
        tokenListeners.push(o);
      }
      if (o.onFinished) finished.push(o.onFinished.bind(o));
      if (o.onKvEvents) kvListeners.push(o);
    },
    // Listening when one KV listener is (one without observesKvEvents always is). Asked by every
    // replica at every step: plain loops, where `some` and its callback allocated each time.
    observesKvEvents: () => {
      for (let i = 0; i < kvListeners.length; i++) if (listensForKvEvents(kvListeners[i]!)) return true;
      return false;
    },
    // Tokens are wanted when one listening KV listener wants them (absent: it does).
    observesKvEventTokens: () => {
      for (const o of kvListeners)
        if (listensForKvEvents(o) && (o.observesKvEventTokens ? o.observesKvEventTokens() : true))
          return true;
      return false;
    },
    // The flat log only when every listening KV listener takes it (absent: it does not).
    observesKvEventLog: () => {
      let listening = 0;
      for (const o of kvListeners) {
        if (o.observesKvEvents && !o.observesKvEvents()) continue;
        if (o.observesKvEventLog?.() !== true) return false;
        listening++;
      }
      return listening > 0;
    },
    onKvEvents(batch) {
      for (const o of kvListeners) o.onKvEvents!(batch);
    },
    onStep(s) {
      for (const f of steps) f(s);
    },
    // Listening when one token listener is (one without observesTokens always is): a hub inside
    // another (a replica's, holding the fleet's shared one) must not make every sequence eager.
    observesTokens: () => {
      for (let i = 0; i < tokenListeners.length; i++) {
        const o = tokenListeners[i]!;
        if (o.observesTokens ? o.observesTokens() : true) return true;
      }
      return false;
    },
    onToken(r, ms, first) {
      for (const f of tokens) f(r, ms, first);
    },
    onFinished(d) {
      for (const f of finished) f(d);
    },
  };
}

const listensForKvEvents = (o: EngineObserver) => (o.observesKvEvents ? o.observesKvEvents() : true);
