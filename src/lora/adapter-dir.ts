/**
 * Reads one LoRA adapter folder the way NIM accepts it (NIM for LLMs "Parameter-Efficient
 * Fine-Tuning", https://docs.nvidia.com/nim/large-language-models/latest/peft.html, and
 * "Fine-Tuning with LoRA", .../latest/advanced-use-cases/finetune-lora.html):
 *
 * - Hugging Face PEFT format: `adapter_config.json` and one of `adapter_model.safetensors`,
 *   `adapter_model.bin`. The rank is the config's `r` (PEFT's default 8 when absent), the adapted
 *   modules its `target_modules`, the base model its `base_model_name_or_path`.
 * - NeMo format: exactly one `.nemo` file (any name). Its config sits inside the archive, which is
 *   not opened: NeMo's LoRA defaults are assumed (rank 32, `attention_qkv`).
 *
 * Nothing else is read: the weights are never loaded.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NEMO_DEFAULT_TARGETS, resolveTargetModules, type LoraModule } from '../catalog/lora-shapes.js';

export type AdapterFormat = 'huggingface' | 'nemo';

export interface AdapterDir {
  readonly format: AdapterFormat;
  readonly rank: number;
  readonly targetModules: readonly LoraModule[];
  /** adapter_config.json's `base_model_name_or_path`, when it names one. */
  readonly baseModelNameOrPath?: string | undefined;
}

/** Why a folder is not an adapter; `missing`: there is no such folder at all. */
export interface AdapterDirProblem {
  readonly problem: string;
  readonly missing: boolean;
}

/** PEFT's LoraConfig default rank (`r: int = 8`). */
const PEFT_DEFAULT_RANK = 8;
/** NeMo's LoRA default `adapter_dim`. */
const NEMO_DEFAULT_RANK = 32;
const CONFIG = 'adapter_config.json';
const WEIGHTS = ['adapter_model.safetensors', 'adapter_model.bin'];

export function isAdapterDirProblem(r: AdapterDir | AdapterDirProblem): r is AdapterDirProblem {
  return 'problem' in r;
}

export function readAdapterDir(path: string): AdapterDir | AdapterDirProblem {
  let files: string[];
  try {
    if (!statSync(path).isDirectory()) return { problem: 'not a directory', missing: true };
    files = readdirSync(path);
  } catch (err) {
    return { problem: (err as NodeJS.ErrnoException).code ?? String(err), missing: true };
  }
  if (files.includes(CONFIG)) {
    if (!WEIGHTS.some((w) => files.includes(w))) {
      return { problem: `${CONFIG} without ${WEIGHTS.join(' or ')}`, missing: false };
    }
    return readHfConfig(join(path, CONFIG));
  }
  const nemo = files.filter((f) => f.endsWith('.nemo'));
  if (nemo.length === 1)
    return { format: 'nemo', rank: NEMO_DEFAULT_RANK, targetModules: NEMO_DEFAULT_TARGETS };
  return {
    problem:
      nemo.length > 1
        ? `${nemo.length} .nemo files (a NeMo adapter has one)`
        : `neither ${CONFIG} with ${WEIGHTS.join(' or ')} nor one .nemo file`,
    missing: false,
  };
}

function readHfConfig(file: string): AdapterDir | AdapterDirProblem {
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { problem: `${CONFIG} unreadable: ${(err as Error).message}`, missing: false };
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    return { problem: `${CONFIG} is not a JSON object`, missing: false };
  }
  const c = config as Record<string, unknown>;
  const rank = c['r'] ?? PEFT_DEFAULT_RANK;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1) {
    return { problem: `${CONFIG} has r=${JSON.stringify(rank)}, not a positive integer`, missing: false };
  }
  const base = c['base_model_name_or_path'];
  return {
    format: 'huggingface',
    rank,
    targetModules: resolveTargetModules(c['target_modules']),
    ...(typeof base === 'string' && base !== '' ? { baseModelNameOrPath: base } : {}),
  };
}
