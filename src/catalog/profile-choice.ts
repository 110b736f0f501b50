/**
 * Picks the model profile a deployment runs, from an explicit profile, the precision/TP shortcut or
 * NIM's automatic choice, and explains a refusal in one line naming the setting to change.
 */
import { settingProblem } from '../config/setting-names.js';
import type { GpuSpec } from './gpus.js';
import type { ModelCard } from './model-card.js';
import { PRECISIONS, precisionSupportedOn } from './precisions.js';
import {
  PROFILE_TP_SIZES,
  checkCompatibility,
  compareProfilePreference,
  enumerateProfiles,
  selectDefaultProfile,
} from './profiles.js';
import type { FitOptions, Incompatibility, ModelProfile } from './profiles.js';

/** What the settings say about the profile (see `DeploymentOptions`). */
export interface ProfileRequest {
  readonly gpuCount: number;
  readonly profile?: string | undefined;
  readonly precision?: string | undefined;
  readonly tp?: number | undefined;
}

/**
 * A setting that cannot be honoured. `message` is one line, `<ENV>=<value>: <detail>`
 * (setting-names.ts); the CLI says it again with the name the user used (`--model=…`), from
 * `setting`, `value` and `detail`.
 */
export class DeploymentError extends Error {
  override readonly name = 'DeploymentError';
  constructor(
    /** The setting's environment variable. */
    readonly setting: string,
    /** The value refused. */
    readonly value: unknown,
    /** What is wrong and what is allowed, without the setting's name or value. */
    readonly detail: string,
  ) {
    super(value === undefined ? `${setting}: ${detail}` : settingProblem(setting, value, detail));
  }
}

function system(gpuCount: number, gpu: GpuSpec): string {
  return `${gpuCount} x ${gpu.key}`;
}

/** Which setting to blame when the precision/TP shortcut picks an unrunnable profile. */
function shortcutSetting(misfit: Incompatibility, opts: ProfileRequest): string {
  if (misfit.kind === 'precision' && opts.precision !== undefined) return 'NIMSIM_PRECISION';
  if (opts.tp !== undefined) return 'NIMSIM_TP';
  return opts.precision !== undefined ? 'NIMSIM_PRECISION' : 'NIMSIM_GPUS';
}

/**
 * The profile the settings ask for: `NIM_MODEL_PROFILE` (name or id) if set, else the compatible profile
 * with the `--precision` / `--tp` shortcut's precision and TP, else NIM's automatic choice. Throws a
 * DeploymentError naming the setting to change when nothing runs.
 */
export function chooseProfile(
  model: ModelCard,
  gpu: GpuSpec,
  opts: ProfileRequest,
  fit: FitOptions,
): ModelProfile {
  const profiles = enumerateProfiles(model);
  const misfitOf = (profile: ModelProfile): Incompatibility | undefined =>
    checkCompatibility(model, profile, gpu, opts.gpuCount, fit);

  if (opts.profile !== undefined) {
    const wanted = opts.profile.trim();
    const profile = profiles.find((p) => p.name === wanted || p.id === wanted.toLowerCase());
    if (!profile) {
      throw new DeploymentError(
        'NIM_MODEL_PROFILE',
        wanted,
        `no such profile of ${model.name}; allowed: a name or id \`nimsim list-model-profiles\` prints`,
      );
    }
    const misfit = misfitOf(profile);
    if (misfit) {
      throw new DeploymentError(
        'NIM_MODEL_PROFILE',
        wanted,
        `profile ${profile.name} is incompatible with ${system(opts.gpuCount, gpu)}: ${misfit.reason}`,
      );
    }
    if (opts.precision !== undefined && opts.precision !== profile.precision) {
      throw new DeploymentError('NIMSIM_PRECISION', opts.precision, `conflicts with profile ${profile.name}`);
    }
    if (opts.tp !== undefined && opts.tp !== profile.tp) {
      throw new DeploymentError('NIMSIM_TP', opts.tp, `conflicts with profile ${profile.name}`);
    }
    return profile;
  }

  if (opts.precision !== undefined || opts.tp !== undefined) {
    const candidates = profiles.filter(
      (p) =>
        (opts.precision === undefined || p.precision === opts.precision) &&
        (opts.tp === undefined || p.tp === opts.tp),
    );
    if (candidates.length === 0) {
      const precisions = model.precisions.join(', ');
      if (opts.precision !== undefined && !model.precisions.some((p) => p === opts.precision)) {
        throw new DeploymentError(
          'NIMSIM_PRECISION',
          opts.precision,
          `${model.name} has no ${opts.precision} profile; allowed: ${precisions}`,
        );
      }
      throw new DeploymentError(
        'NIMSIM_TP',
        opts.tp,
        `${model.name} has no tp${String(opts.tp)} profile; allowed: ${PROFILE_TP_SIZES.join(', ')}`,
      );
    }
    const picked = selectDefaultProfile(candidates, (p) => misfitOf(p) === undefined, {
      includeInt4Awq: opts.precision === 'int4_awq',
    });
    if (picked) return picked;
    // Explain with the generic profile of that precision and TP: its reason is about the system, not a GPU mismatch.
    const generic = candidates.find((p) => p.runtime === 'vllm') ?? candidates[0];
    const misfit = generic ? misfitOf(generic) : undefined;
    const detail = misfit ? misfit.reason : 'no profile fits';
    const wanted = [opts.precision, opts.tp === undefined ? undefined : `tp${opts.tp}`]
      .filter(Boolean)
      .join(' ');
    const setting = misfit ? shortcutSetting(misfit, opts) : 'NIMSIM_PRECISION';
    throw new DeploymentError(
      setting,
      setting === 'NIMSIM_PRECISION' ? opts.precision : setting === 'NIMSIM_TP' ? opts.tp : opts.gpuCount,
      `no ${wanted} profile of ${model.name} runs on ${system(opts.gpuCount, gpu)}: ${detail}`,
    );
  }

  const chosen = selectDefaultProfile(profiles, (p) => misfitOf(p) === undefined);
  if (chosen) return chosen;
  // The fewest GPUs any profile would run on (ties: the automatic choice's preference).
  const maxGpus = Math.max(...PROFILE_TP_SIZES);
  const needed = profiles
    .filter((p) => p.precision !== 'int4_awq')
    .filter((p) => checkCompatibility(model, p, gpu, maxGpus, fit) === undefined)
    .sort((a, b) => a.tp - b.tp || compareProfilePreference(a, b))[0];
  if (needed && needed.tp > opts.gpuCount) {
    throw new DeploymentError(
      'NIMSIM_GPUS',
      opts.gpuCount,
      `${model.name} does not fit on ${system(opts.gpuCount, gpu)}; it needs ${needed.tp} GPUs (${needed.name})`,
    );
  }
  // Explain with the generic profile that comes closest: the best precision at the largest TP the system has.
  const closest = profiles
    .filter((p) => p.runtime === 'vllm' && p.tp <= opts.gpuCount && p.precision !== 'int4_awq')
    .filter((p) => precisionSupportedOn(PRECISIONS[p.precision], gpu.architecture))
    .sort((a, b) => b.tp - a.tp || compareProfilePreference(a, b))[0];
  const misfit = closest ? misfitOf(closest) : undefined;
  throw new DeploymentError(
    'NIMSIM_GPU',
    gpu.key,
    `no profile of ${model.name} fits on ${system(opts.gpuCount, gpu)}${misfit ? `: ${misfit.reason}` : ''}`,
  );
}
