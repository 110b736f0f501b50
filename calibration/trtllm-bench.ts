/**
 * trtllm-bench's engine settings for a dataset: the max batch size and the token budget its
 * `throughput` command picks from the model, the GPUs and the dataset's ISL/OSL, as
 * `calc_engine_setting` and `finetune_setting` do in tensorrt_llm/bench/build/tuning.py
 * (https://github.com/NVIDIA/TensorRT-LLM). Memory there is in GiB of the device total.
 */
import type { ModelCard } from '../src/catalog/models.js';
import type { GpuSpec } from '../src/catalog/gpus.js';

const GIB = 1024 ** 3;
/** tuning.py BYTES_PER_ELEM by quantization (NO_QUANT 2, FP8 1, NVFP4 0.5). */
const BYTES_PER_ELEM: Readonly<Record<string, number>> = { bf16: 2, fp16: 2, fp8: 1, nvfp4: 0.5 };

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
