/**
 * trtllm-bench's engine settings for a dataset: the max batch size and the token budget its
 * `throughput` command picks from the model, the GPUs and the dataset's ISL/OSL, as
 * `get_benchmark_engine_settings` (tensorrt_llm/bench/build/build.py), `calc_engine_setting` and
 * `finetune_setting` (tensorrt_llm/bench/build/tuning.py) and `get_settings`
 * (tensorrt_llm/bench/benchmark/utils/general.py) do in https://github.com/NVIDIA/TensorRT-LLM.
 * Memory there is in GiB of the device total.
 */
import type { ModelCard } from '../src/catalog/model-card.js';
import type { GpuSpec } from '../src/catalog/gpus.js';

const GIB = 1024 ** 3;
/** tuning.py BYTES_PER_ELEM by quantization (NO_QUANT 2, FP8 1, NVFP4 0.5). */
const BYTES_PER_ELEM: Readonly<Record<string, number>> = { bf16: 2, fp16: 2, fp8: 1, nvfp4: 0.5 };
/**
 * build.py's fallback for a quantization outside TUNED_QUANTS (NVFP4, FP8, FP8 block scales, none):
 * BuildConfig's defaults (tensorrt_llm/builder.py, max_batch_size 2048, max_num_tokens 8192). An
 * MXFP4 checkpoint (gpt-oss: W4A8_MXFP4_MXFP8 on Blackwell, W4A16_MXFP4 on Hopper) takes it.
 */
const UNTUNED: BenchSettings = { maxBatchSize: 2048, maxNumTokens: 8192 };

export interface BenchSettings {
  readonly maxBatchSize: number;
  readonly maxNumTokens: number;
}

export function trtllmBenchSettings(
  model: ModelCard,
  gpu: GpuSpec,
  precision: string,
  tp: number,
  inputTokens: number,
  outputTokens: number,
  kvFraction = 0.95,
): BenchSettings {
  const tuned = model.moe?.mxfp4Experts
    ? UNTUNED
    : calcEngineSetting(model, gpu, precision, tp, inputTokens, outputTokens, kvFraction);
  // general.py: chunked prefill is off unless asked for, so the token budget must hold the longest
  // prompt beside a full batch: max_num_tokens = max(it, max ISL + max batch size).
  return {
    maxBatchSize: tuned.maxBatchSize,
    maxNumTokens: Math.max(tuned.maxNumTokens, inputTokens + tuned.maxBatchSize),
  };
}

function calcEngineSetting(
  model: ModelCard,
  gpu: GpuSpec,
  precision: string,
  tp: number,
  inputTokens: number,
  outputTokens: number,
  kvFraction: number,
): BenchSettings {
  const bytePerElem = BYTES_PER_ELEM[precision] ?? 2;
  // ModelOpt FP8/FP4 checkpoints carry an FP8 KV cache (kv_cache_quant_algo FP8).
  const bytePerKvElem = precision === 'fp8' || precision === 'nvfp4' ? 1 : 2;
  const kvHeads = Math.max(tp, model.numKvHeads);
  const bytePerToken = (2 * model.numLayers * kvHeads * model.headDim * bytePerKvElem) / GIB;
  const engineSize = (model.totalParams * bytePerElem) / GIB;
  const totalMemory = (gpu.memoryBytes / GIB) * tp;
  const cacheMemory = (totalMemory - engineSize) * kvFraction;
  const kvMaxRequests = cacheMemory / (bytePerToken * (inputTokens + outputTokens));
  return finetune(kvMaxRequests, inputTokens, outputTokens);
}

function finetune(kvMaxRequests: number, inputLen: number, outputLen: number): BenchSettings {
  const rawBs = Math.min(kvMaxRequests, 4096);
  const rawToken = Math.min(rawBs * (1 + inputLen / outputLen), 32768);
  let maxBatchSize: number;
  if (rawBs < 256) maxBatchSize = Math.max(64, 32 * Math.ceil(rawBs / 32));
  else if (rawBs < 1024) maxBatchSize = 128 * Math.ceil(rawBs / 128);
  else maxBatchSize = 256 * Math.ceil(rawBs / 256);
  let maxNumTokens: number;
  if (rawToken < 4096) maxNumTokens = Math.max(2048, 256 * Math.ceil(rawToken / 256));
  else if (rawToken < 8192) maxNumTokens = 512 * Math.ceil(rawToken / 512);
  else maxNumTokens = 1024 * Math.ceil(rawToken / 1024);
  return { maxBatchSize, maxNumTokens };
}
