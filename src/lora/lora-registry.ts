/**
 * The LoRA adapters a server serves, by name: what /v1/models lists beside the base model, what a
 * request's `model` may name, and what vLLM's /v1/load_lora_adapter and /v1/unload_lora_adapter
 * change (vLLM's `OpenAIServingModels`, vllm/entrypoints/openai/serving_models.py). Adapters come
 * from NIM_PEFT_SOURCE (peft-source.ts) or from the load route; each gets vLLM's next
 * `lora_int_id` (1, 2, …) when it is loaded. Failures carry vLLM's status, type and message.
 */
import { loraParamsPerRank } from '../catalog/lora-shapes.js';
import type { ModelCard } from '../catalog/model-card.js';
import type { EngineLora } from '../engine/types.js';
import { isAdapterDirProblem, readAdapterDir, type AdapterFormat } from './adapter-dir.js';

/** Where an adapter came from: a folder of NIM_PEFT_SOURCE, or POST /v1/load_lora_adapter. */
export type AdapterSource = 'peft-source' | 'api';

export interface LoraAdapter {
  /** The model id clients send (the folder's name, or `lora_name`). */
  readonly name: string;
  /** Its folder (`lora_path`): /v1/models' `root`, as vLLM lists a LoRA's local path. */
  readonly path: string;
  readonly format: AdapterFormat;
  readonly rank: number;
  /** The base model it is listed under (/v1/models' `parent`) and whose metrics it counts in. */
  readonly parent: string;
  /** adapter_config.json's `base_model_name_or_path`, when it names one. */
  readonly baseModelNameOrPath?: string | undefined;
  readonly source: AdapterSource;
  /** Unix seconds when it was loaded (/v1/models' `created`). */
  readonly createdS: number;
  /** What the engine runs it with: name, lora_int_id, parameter count. */
  readonly engine: EngineLora;
}

/** A load or unload refused, as vLLM answers it: status, error type, message. */
export class LoraError extends Error {
  override readonly name = 'LoraError';
  constructor(
    readonly status: 400 | 404,
    readonly type: 'InvalidUserInput' | 'BadRequestError' | 'NotFoundError',
    message: string,
  ) {
    super(message);
  }
}

export interface LoraRegistryOptions {
  /** The simulated model: the adapters' module shapes. */
  readonly model: ModelCard;
  /** The served base model names: an adapter is listed under the first, or the one it names. */
  readonly servedModels: readonly string[];
  /** NIM_MAX_LORA_RANK (vLLM --max-lora-rank). */
  readonly maxLoraRank: number;
  /** Unix seconds now. */
  readonly nowS?: () => number;
}

export interface LoadOptions {
  readonly source: AdapterSource;
  /** vLLM's `load_inplace`: replace an adapter of that name instead of refusing. */
  readonly inplace?: boolean;
}

export interface LoraRegistry {
  get(name: string): LoraAdapter | undefined;
  /** Every adapter, in the order they were loaded. */
  list(): readonly LoraAdapter[];
  /** Reads the folder and adds the adapter; throws LoraError as vLLM refuses it. */
  load(name: string, path: string, options: LoadOptions): LoraAdapter;
  /** Removes it (requests already running with it finish); throws LoraError 404 when unknown. */
  unload(name: string): LoraAdapter;
}

export function createLoraRegistry(opts: LoraRegistryOptions): LoraRegistry {
  const adapters = new Map<string, LoraAdapter>();
  const nowS = opts.nowS ?? (() => Math.floor(Date.now() / 1000));
  let lastId = 0;

  /** vLLM lists an adapter under the base model it names (when served), else the first. */
  const parentOf = (base: string | undefined) => {
    if (base !== undefined) {
      const named = opts.servedModels.find((m) => m === base || m.toLowerCase() === base.toLowerCase());
      if (named) return named;
    }
    return opts.servedModels[0]!;
  };

  return {
    get: (name) => adapters.get(name),
    list: () => [...adapters.values()],
    load(name, path, options) {
      // vLLM's _check_load_lora_adapter_request.
      if (!name || !path) {
        throw new LoraError(400, 'InvalidUserInput', "Both 'lora_name' and 'lora_path' must be provided.");
      }
      if (adapters.has(name) && options.inplace !== true) {
        throw new LoraError(
          400,
          'InvalidUserInput',
          `The lora adapter '${name}' has already been loaded. If you want to load the adapter in place, set 'load_inplace' to True.`,
        );
      }
      if (opts.servedModels.includes(name)) {
        throw new LoraError(
          400,
          'InvalidUserInput',
          `'${name}' is the name of a base model, not of a LoRA adapter.`,
        );
      }
      const dir = readAdapterDir(path);
      if (isAdapterDirProblem(dir)) {
        // vLLM's worker: an unreadable adapter is "No adapter found" (404), any other failure 400.
        throw dir.missing
          ? new LoraError(404, 'NotFoundError', `Loading lora ${name} failed: No adapter found for ${path}`)
          : new LoraError(400, 'BadRequestError', `Loading lora ${name} failed: ${dir.problem}`);
      }
      if (dir.rank > opts.maxLoraRank) {
        // vllm/lora/peft_helper.py `validate_legal`.
        throw new LoraError(
          400,
          'BadRequestError',
          `LoRA rank ${dir.rank} is greater than max_lora_rank ${opts.maxLoraRank}.`,
        );
      }
      const adapter: LoraAdapter = {
        name,
        path,
        format: dir.format,
        rank: dir.rank,
        parent: parentOf(dir.baseModelNameOrPath),
        ...(dir.baseModelNameOrPath !== undefined ? { baseModelNameOrPath: dir.baseModelNameOrPath } : {}),
        source: options.source,
        createdS: nowS(),
        engine: { name, id: ++lastId, params: dir.rank * loraParamsPerRank(opts.model, dir.targetModules) },
      };
      // A reload in place keeps the adapter's place in the list.
      adapters.set(name, adapter);
      return adapter;
    },
    unload(name) {
      if (!name) {
        throw new LoraError(
          400,
          'InvalidUserInput',
          "'lora_name' needs to be provided to unload a LoRA adapter.",
        );
      }
      const adapter = adapters.get(name);
      if (!adapter) throw new LoraError(404, 'NotFoundError', `The lora adapter '${name}' cannot be found.`);
      adapters.delete(name);
      return adapter;
    },
  };
}
