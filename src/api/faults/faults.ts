/**
 * Faults on demand, for users testing their retry and fallback code: which fault (if any) a request
 * gets, and the error each status fault answers with. A request is forced into one fault by the
 * `x-nimsim-fault` header (docs/interface.md#faults); otherwise NIMSIM_FAULT_RATE
 * draws one from NIMSIM_FAULT_TYPES, seeded by NIMSIM_SEED so a run is reproducible. The HTTP
 * mechanics (holding, stalling, dropping) live in run-fault.ts and fault-stream.ts.
 */
import { createRandom } from '../../util/random.js';
import {
  FAULT_TYPE_NAMES,
  MAX_INJECTED_DELAY_MS,
  STATUS_FAULT_NAMES,
  type FaultType,
} from '../../config/settings.js';
import { ApiError } from '../../serving/errors.js';

export { FAULT_TYPE_NAMES, type FaultType };

/** Request header forcing a fault: one of FAULT_TYPE_NAMES, or `none` to skip the random draw. */
export const FAULT_HEADER = 'x-nimsim-fault';
/** Request header overriding NIMSIM_FAULT_DELAY_MS for this request's latency fault (wall ms). */
export const FAULT_DELAY_HEADER = 'x-nimsim-fault-delay-ms';
/** Response header naming the fault injected, so a failure in a client's log is recognisable. */
export const FAULT_INJECTED_HEADER = 'x-nimsim-fault-injected';

/** Seconds a client is told to wait after an injected 429 or 503 (RFC 9110 Retry-After). */
export const FAULT_RETRY_AFTER_S = 1;

export interface FaultSettings {
  /** Fraction 0–1 of inference requests that get a random fault. */
  readonly rate: number;
  /** The faults the random draw picks from, uniformly. */
  readonly types: readonly FaultType[];
  /** Wall time of latency faults (slow first token, stall, the hold before a timeout drops). */
  readonly delayMs: number;
  /**
   * Whether FAULT_HEADER and FAULT_DELAY_HEADER are honoured (NIMSIM_FAULT_HEADERS). Off, they are
   * ignored like any unknown header: a shared deployment's clients cannot stall or drop requests.
   */
  readonly headers?: boolean;
}

export interface FaultInjector {
  readonly settings: FaultSettings;
  /** Changes the settings at run time (PATCH /admin/config). */
  update(patch: Partial<FaultSettings>): void;
  /**
   * The fault for one request: the one the header forces, else a seeded draw, else undefined.
   * An unknown header value is a 400 naming the valid ones.
   */
  choose(headerValue: string | undefined): FaultType | undefined;
  /** The latency faults' delay for one request: the header's value, else the setting. */
  delayMs(headerValue: string | undefined): number;
}

export function createFaultInjector(initial: FaultSettings, seed: number): FaultInjector {
  let settings = { ...initial, types: [...initial.types] };
  // Its own stream, so enabling faults does not change the content or jitter of a seeded run.
  const rng = createRandom((seed ^ 0xfa017) >>> 0);
  return {
    get settings() {
      return settings;
    },
    update(patch) {
      settings = { ...settings, ...patch, types: [...(patch.types ?? settings.types)] };
    },
    choose(headerValue) {
      const forced = settings.headers === false ? undefined : headerValue?.trim().toLowerCase();
      if (forced !== undefined && forced !== '') {
        if (forced === 'none') return undefined;
        if (!(FAULT_TYPE_NAMES as readonly string[]).includes(forced)) {
          throw new ApiError(
            400,
            `Unknown ${FAULT_HEADER} value ${JSON.stringify(headerValue)}: use none or one of ${FAULT_TYPE_NAMES.join(', ')}.`,
            FAULT_HEADER,
          );
        }
        return forced as FaultType;
      }
      if (settings.rate <= 0 || settings.types.length === 0) return undefined;
      if (rng.nextFloat() >= settings.rate) return undefined;
      return settings.types[rng.nextInt(settings.types.length)];
    },
    delayMs(headerValue) {
      if (settings.headers === false || headerValue === undefined || headerValue.trim() === '') {
        return settings.delayMs;
      }
      const v = headerValue.trim();
      if (!/^\d+$/.test(v) || Number(v) > MAX_INJECTED_DELAY_MS) {
        throw new ApiError(
          400,
          `Invalid ${FAULT_DELAY_HEADER} value ${JSON.stringify(headerValue)}: an integer from 0 to ${MAX_INJECTED_DELAY_MS}.`,
          FAULT_DELAY_HEADER,
        );
      }
      return Number(v);
    },
  };
}

/** Faults answered with an error status before any work is done. */
export type StatusFault = (typeof STATUS_FAULT_NAMES)[number];

const STATUS_FAULTS: ReadonlySet<FaultType> = new Set<FaultType>(STATUS_FAULT_NAMES);

export function isStatusFault(type: FaultType): type is StatusFault {
  return STATUS_FAULTS.has(type);
}

/**
 * The error a status fault answers with: the status, type and wording NIM/vLLM use for the real
 * failure (docs/nim-api.md#errors), so client code cannot tell it from one; the response also carries
 * FAULT_INJECTED_HEADER.
 */
export function faultError(type: StatusFault, ctx: { model: string; maxModelLen: number }): ApiError {
  const tag = { [FAULT_INJECTED_HEADER]: type };
  const retry = { ...tag, 'retry-after': String(FAULT_RETRY_AFTER_S) };
  switch (type) {
    case 'rate_limit':
      return new ApiError(429, 'Too many requests: the server is at capacity. Retry later.', null, retry);
    case 'server_error':
      return new ApiError(500, 'Internal server error.', null, tag);
    case 'service_unavailable':
      return new ApiError(503, 'The service is temporarily unavailable. Retry later.', null, retry);
    case 'context_length': {
      const requested = ctx.maxModelLen + 1;
      return new ApiError(
        400,
        `This model's maximum context length is ${ctx.maxModelLen} tokens. However, you requested ${requested} tokens in the messages, Please reduce the length of the messages.`,
        'messages',
        tag,
      );
    }
    case 'invalid_request':
      return new ApiError(400, 'Invalid request: the request could not be processed.', null, tag);
    case 'model_not_found':
      return new ApiError(404, `The model \`${ctx.model}\` does not exist.`, 'model', tag);
  }
}
