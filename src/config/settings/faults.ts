/** Settings of fault injection: how often inference requests fail, how, and for how long. */
import { z } from 'zod';
import { bool, int, num } from './value-schemas.js';
import { settingGroup } from './define.js';

/**
 * Injectable faults (docs/interface.md#faults; see src/api/faults/faults.ts): those answered with
 * an error status before any work is done, then the latency faults.
 */
export const STATUS_FAULT_NAMES = [
  'rate_limit',
  'server_error',
  'service_unavailable',
  'context_length',
  'invalid_request',
  'model_not_found',
] as const;

/** The faults that delay, stall or drop a request. */
const LATENCY_FAULT_NAMES = ['timeout', 'slow_first_token', 'stall', 'disconnect'] as const;

/** Every injectable fault, in the order docs/interface.md lists them. */
export const FAULT_TYPE_NAMES = [...STATUS_FAULT_NAMES, ...LATENCY_FAULT_NAMES] as const;

export type FaultType = (typeof FAULT_TYPE_NAMES)[number];

/**
 * Longest wall delay a fault or a scripted reply may inject (ms): NIMSIM_FAULT_DELAY_MS, the
 * x-nimsim-fault-delay-ms header and a rule's latency_ms. Ten minutes is the openai client's
 * default timeout; a longer hold tests nothing a client can see.
 */
export const MAX_INJECTED_DELAY_MS = 600_000;

/** `all`, or a comma-separated list of fault types, each one of FAULT_TYPE_NAMES. */
const faultTypes = () =>
  z
    .string()
    .transform((v) =>
      v.trim().toLowerCase() === 'all'
        ? [...FAULT_TYPE_NAMES]
        : v
            .split(',')
            .map((s) => s.trim().toLowerCase())
            .filter((s) => s.length > 0),
    )
    .superRefine((types, ctx) => {
      const unknown = types.find((t) => !(FAULT_TYPE_NAMES as readonly string[]).includes(t));
      if (types.length === 0 || unknown !== undefined)
        ctx.addIssue({
          code: 'custom',
          message:
            (unknown === undefined ? 'must name at least one fault type' : `unknown fault type ${unknown}`) +
            `; allowed: all, or a comma-separated list of the ${FAULT_TYPE_NAMES.length} types --help lists`,
        });
    })
    .pipe(z.array(z.enum(FAULT_TYPE_NAMES)));

export const FAULT_SETTINGS = settingGroup('faults', {
  faultRate: {
    env: 'NIMSIM_FAULT_RATE',
    schema: num(0, 1),
    default: '0',
    help: 'fraction 0-1 of inference requests that fail with an injected error',
    arg: '<f>',
    serveOnly: true,
  },
  faultTypes: {
    env: 'NIMSIM_FAULT_TYPES',
    schema: faultTypes(),
    default: 'all',
    help: `fault types drawn, comma-separated: all, or ${FAULT_TYPE_NAMES.join(', ')}`,
    arg: '<types>',
    serveOnly: true,
  },
  faultDelayMs: {
    env: 'NIMSIM_FAULT_DELAY_MS',
    schema: int(0, MAX_INJECTED_DELAY_MS),
    default: '10000',
    help: `wall time of latency faults (slow first token, stall, timeout), ≤ ${MAX_INJECTED_DELAY_MS}`,
    arg: '<ms>',
    serveOnly: true,
  },
  faultHeaders: {
    env: 'NIMSIM_FAULT_HEADERS',
    schema: bool(),
    default: '1',
    help: 'honour the x-nimsim-fault(-delay-ms) request headers (1) or not (0)',
    arg: '<0|1>',
    serveOnly: true,
  },
});
