/**
 * What a scenario gets from the CLI and the helpers every scenario shares: the target (an external
 * URL, or a nimsim child process the scenario starts with its own flags), its time scale, and the
 * run's bounds.
 */
import {
  freePort,
  LOCALHOST,
  NIMSIM_CLI,
  requireBuild,
  spawnServer,
  type ChildServer,
} from './child-server.js';
import type { ScenarioReport } from './report.js';
import { parseTarget, type Target } from './target.js';

export const DEFAULT_MODEL = 'meta/llama-3.1-8b-instruct';

export interface ScenarioContext {
  readonly quick: boolean;
  readonly seed: number;
  /** An external endpoint (`--url`); undefined = the scenario starts nimsim itself. */
  readonly url: string | undefined;
  readonly allowRemote: boolean;
  readonly model: string;
  readonly apiKey: string | undefined;
  /** `--target-time-scale`: the time scale of an external nimsim (1 for a real NIM). */
  readonly targetTimeScale: number;
  /** `--trace FILE` for the trace scenario. */
  readonly tracePath: string | undefined;
  /** Show a progress line on stderr. */
  readonly progress: boolean;
  /** Status lines for the user (stderr). */
  log(message: string): void;
}

export interface Scenario {
  readonly name: string;
  /** One line for `--help`. */
  readonly summary: string;
  run(ctx: ScenarioContext): Promise<ScenarioReport>;
}

/** A nimsim child process and the target that points at it. */
export interface StartedTarget {
  readonly target: Target;
  /** Multiply client wall times by this to get simulated times. */
  readonly timeScale: number;
  /** How to describe it in the report. */
  readonly description: string;
  /** The child, when this run started one. */
  readonly server: ChildServer | undefined;
  stop(): Promise<void>;
}

/** `--flag value` pairs from a record, in order. */
export function flagsOf(flags: Readonly<Record<string, string | number>>): string[] {
  return Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)]);
}

/** Starts `node dist/cli.js serve` with `flags` on a free loopback port. */
export async function startNimsim(
  ctx: ScenarioContext,
  flags: Readonly<Record<string, string | number>>,
): Promise<StartedTarget> {
  requireBuild();
  const port = await freePort();
  const args = flagsOf({ 'log-level': 'WARNING', model: ctx.model, seed: ctx.seed, ...flags });
  const server = await spawnServer({
    name: 'nimsim',
    port,
    nodeArgs: [NIMSIM_CLI, 'serve', '--port', String(port), ...args],
    readyPath: '/v1/health/ready',
  });
  const timeScale = Number(flags['time-scale'] ?? 1);
  return {
    target: { host: LOCALHOST, port, basePath: '', model: ctx.model, apiKey: undefined },
    timeScale: timeScale > 0 ? timeScale : 1,
    description: `nimsim serve ${args.join(' ')} (child process, pid ${server.pid})`,
    server,
    stop: () => server.stop(),
  };
}

/**
 * The target of a scenario that may run against an external endpoint: `--url` when given (its
 * time scale from `--target-time-scale`), otherwise a nimsim started with `flags`.
 */
export async function openTarget(
  ctx: ScenarioContext,
  flags: Readonly<Record<string, string | number>>,
): Promise<StartedTarget> {
  if (ctx.url === undefined) return startNimsim(ctx, flags);
  const target = parseTarget(ctx.url, { model: ctx.model, apiKey: ctx.apiKey, allowRemote: ctx.allowRemote });
  return {
    target,
    timeScale: ctx.targetTimeScale,
    description: `${ctx.url} (external; time scale ${ctx.targetTimeScale})`,
    server: undefined,
    stop: async () => {},
  };
}

/** Text of `GET path` on the target, or undefined when it is not there (e.g. a real NIM's admin). */
export async function getText(t: Target, path: string): Promise<string | undefined> {
  try {
    const res = await fetch(
      `http://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}${t.basePath}${path}`,
    );
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/** A value of an unlabelled-or-labelled Prometheus sample (first match), or undefined. */
export function promValue(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const escaped = name.replace(/[:.]/g, (c) => `\\${c}`);
  const m = new RegExp(`^${escaped}(?:\\{[^}]*\\})? ([0-9.eE+-]+|NaN)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}
