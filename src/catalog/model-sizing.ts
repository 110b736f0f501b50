/**
 * The sizing rules every other part uses, from a model's card and a precision: its weight bytes
 * (all of them, per GPU, streamed per step, per routed expert), the parameters a token passes
 * through, and the KV-cache bytes one token occupies on one GPU.
 */
import type { ModelCard } from './model-card.js';
import type { PrecisionSpec } from './precisions.js';

/** Input-embedding parameters (vocab x hidden); the LM head has as many (no model here ties them). */
export function embeddingParams(model: ModelCard): number {
  return model.vocabSize * model.hiddenSize;
}

/** Bytes of 16-bit weights every recipe keeps unquantized: the embedding table and the LM head. */
const UNQUANTIZED_BYTES_PER_WEIGHT = 2; // HF nvidia/Llama-3.1-405B-Instruct-FP8 card: only linear ops in blocks are quantized

/**
 * Bytes per MXFP4 weight: 4-bit E2M1 values with one 8-bit E8M0 scale per block of 32 (OCP
 * Microscaling Formats (MX) v1.0 specification), 4.25 bits.
 */
export const MXFP4_BYTES_PER_WEIGHT = (4 + 8 / 32) / 8;

/** Bytes per routed-expert weight in that precision (MXFP4 when the checkpoint ships them so). */
function expertBytesPerWeight(model: ModelCard, precision: PrecisionSpec): number {
  return model.moe?.mxfp4Experts ? MXFP4_BYTES_PER_WEIGHT : precision.bytesPerWeight;
}

/** Bytes per weight of the transformer blocks' other linear layers (BF16 in an MXFP4-expert checkpoint). */
function denseBytesPerWeight(model: ModelCard, precision: PrecisionSpec): number {
  return model.moe?.mxfp4Experts ? UNQUANTIZED_BYTES_PER_WEIGHT : precision.bytesPerWeight;
}

/** All weight bytes of the model in that precision, across all GPUs. */
export function weightBytesTotal(model: ModelCard, precision: PrecisionSpec): number {
  const tables = 2 * embeddingParams(model);
  const experts = model.moe ? model.moe.numExperts * model.moe.paramsPerExpert : 0;
  return (
    (model.totalParams - tables - experts) * denseBytesPerWeight(model, precision) +
    experts * expertBytesPerWeight(model, precision) +
    tables * UNQUANTIZED_BYTES_PER_WEIGHT
  );
}

/** Weight bytes resident on one GPU at tensor-parallel size `tp` (vLLM shards every layer, vocab included). */
export function weightBytesPerGpu(model: ModelCard, precision: PrecisionSpec, tp: number): number {
  return weightBytesTotal(model, precision) / tp;
}

/**
 * Weight bytes one GPU streams every step whatever the routing: everything but the routed experts and
 * the input-embedding table (a gather reads only the rows it needs).
 */
export function streamedWeightBytesPerGpu(model: ModelCard, precision: PrecisionSpec, tp: number): number {
  const embedding = embeddingParams(model) * UNQUANTIZED_BYTES_PER_WEIGHT;
  const experts = model.moe ? model.moe.numExperts * expertBytesPerGpu(model, precision, tp) * tp : 0;
  return (weightBytesTotal(model, precision) - embedding - experts) / tp;
}

/** Bytes of one routed expert (all its layers) on one GPU; 0 for dense models. */
export function expertBytesPerGpu(model: ModelCard, precision: PrecisionSpec, tp: number): number {
  return model.moe ? (model.moe.paramsPerExpert * expertBytesPerWeight(model, precision)) / tp : 0;
}

/** Routed-expert matmul parameters one token passes through (k experts); 0 for dense models. */
export function expertParamsPerToken(model: ModelCard): number {
  return model.moe ? model.moe.expertsPerToken * model.moe.paramsPerExpert : 0;
}

/**
 * KV-cache bytes one token occupies on one GPU. GQA: 2 (K and V) x layers x KV heads on this GPU x
 * head dim x element size (docs/performance-model.md#kv-memory); KV heads replicate once tp exceeds
 * their count. MLA: one latent of kv_lora_rank + rope dims per layer, replicated on every
 * tensor-parallel rank.
 */
export function kvBytesPerTokenPerGpu(model: ModelCard, precision: PrecisionSpec, tp: number): number {
  if (model.mla) {
    return model.numLayers * (model.mla.kvLoraRank + model.mla.qkRopeHeadDim) * precision.kvBytesPerElement;
  }
  const kvHeadsPerGpu = Math.ceil(model.numKvHeads / tp);
  return 2 * model.numLayers * kvHeadsPerGpu * model.headDim * precision.kvBytesPerElement;
}

/** Matmul parameters one token passes through besides the LM head (the embedding lookup is no matmul). */
export function matmulParamsPerToken(model: ModelCard): number {
  return model.activeParams - 2 * embeddingParams(model);
}
