/**
 * The roofline step-time model (docs/performance-model.md#step-time). A step is two stages that
 * overlap: the GPU's work and the serving front end's per-sequence CPU work; it takes the longer.
 *
 * GPU time, per GPU, is a sum of phases, each its own roofline (as BLIS times each phase,
 * https://github.com/inference-sim/inference-sim):
 * - matmuls: max(2 FLOPs per matmul parameter per token (LM head once per decode token and once per
 *   prefill chunk) at the achieved rate of the dtype each group runs in, the weights streamed once
 *   (for MoE, only the experts the step's tokens are expected to touch: E x (1 - (1 - k/E)^tokens),
 *   the coupon-collector expectation, each touched expert's tokens padded to whole GEMM tiles));
 * - attention: max(FLOPs over every (query, context) pair, KV read and written), since attention
 *   kernels run after the matmuls of their layer, not alongside them;
 * - a fixed cost per layer (kernel launch gaps and tails) and per step;
 * - tensor-parallel all-reduces: a latency per call that grows with the hops of the TP group, plus
 *   the bytes over the link;
 * - KV copied in from the host tier over the host link, and read from the disk tier (docs/kv-tiers.md);
 * - LoRA adapters (docs/lora.md#timing): 2 FLOPs per adapter parameter per token of a LoRA
 *   request, and each distinct adapter's weights read once, both in the matmul roofline.
 *
 * Everything is per GPU; the spec is plain numbers so the engine never imports the catalog.
 */
import type { PerfModel, StepWork } from './perf-model.js';

export interface RooflineSpec {
  readonly numLayers: number;
  readonly hiddenSize: number;
  /** Attention heads of the whole model (split across tensor-parallel ranks). */
  readonly numAttentionHeads: number;
  /** Widths per head that attention FLOPs scale with (score and value products). */
  readonly attnQkHeadDim: number;
  readonly attnVHeadDim: number;
  /** Layers whose attention only reaches the last `slidingWindowTokens` positions (0 = none). */
  readonly slidingWindowLayers: number;
  readonly slidingWindowTokens: number;
  /** Matmul parameters a token passes through, LM head and embedding lookup excluded. */
  readonly matmulParamsPerToken: number;
  /** LM-head parameters (vocab x hidden), applied once per sampled position. */
  readonly lmHeadParams: number;
  /** All parameters of the model (informational). */
  readonly totalParams: number;
  /** Routed experts per MoE layer and how many each token uses (0 and 0 for dense models). */
  readonly numExperts: number;
  readonly expertsPerToken: number;
  /** Bytes of one routed expert, all layers, on one GPU. */
  readonly expertBytesPerGpu: number;
  /** Weight bytes one GPU reads every step regardless of routing. */
  readonly streamedWeightBytesPerGpu: number;
  /** Weight bytes resident on one GPU (informational; capacity is the catalog's concern). */
  readonly weightBytesPerGpu: number;
  /** KV-cache bytes per token on one GPU. */
  readonly kvBytesPerTokenPerGpu: number;
  /** Routed-expert matmul parameters a token passes through (k experts; 0 for dense models). */
  readonly expertParamsPerToken: number;
  /**
   * Achieved FLOP/s of one GPU (MFU x dense peak of the dtype each runs in), prefill and decode
   * alike: once batched, a decode token's matmul row costs what a prefill token's does. The
   * matmuls outside the routed experts, the routed experts' grouped GEMMs, and attention (which
   * runs in the KV cache's dtype, never FP4) each have their own.
   */
  readonly matmulFlopsPerS: number;
  readonly expertFlopsPerS: number;
  readonly attentionFlopsPerS: number;
  /**
   * Rows of one tile of the experts' grouped GEMM: each expert's tokens are padded up to whole
   * tiles, so an expert that few tokens reach costs a full tile (0 = no padding).
   */
  readonly expertTileRows: number;
  /** Peak device-memory bandwidth, bytes/s, one GPU. */
  readonly memoryBytesPerS: number;
  /** Achieved fraction of peak memory bandwidth when streaming weights or KV. */
  readonly memoryEfficiency: number;
  /** Tensor-parallel size. */
  readonly tp: number;
  /**
   * Tensor-parallel all-reduce, two ways: one-shot (small messages) and ring (large ones), each a
   * latency per call in ms and a bandwidth in bytes/s on the ring volume 2 (tp - 1) / tp x message;
   * a call costs the cheaper of the two. A spec without the ring path has the one-shot path only.
   */
  readonly allReduceBytesPerS: number;
  readonly allReduceLatencyMs: number;
  readonly allReduceRingBytesPerS?: number;
  readonly allReduceRingLatencyMs?: number;
  /** Scheduler, launch and sampling cost of any step, ms. */
  readonly fixedStepOverheadMs: number;
  /** Fixed GPU cost of each layer in a step (kernel launch gaps and tails), ms. */
  readonly perLayerMs: number;
  /**
   * The front end's CPU time per scheduled sequence (decode or prefill chunk) per step, ms; it
   * overlaps the GPU (0 = no front end, as when a benchmark drives the engine in-process).
   */
  readonly frontendMsPerSeq: number;
  /**
   * The front end's CPU time to take in one new request (parsing, chat template, tokenization), ms;
   * shared with the streams (frontend-intake.ts), not part of a step's time.
   */
  readonly frontendIntakeMs: number;
  /** Host (CPU) to GPU bandwidth for KV loaded from the host tier, bytes/s per GPU. */
  readonly hostLinkBytesPerS: number;
  /**
   * Sequential read bandwidth of the local-disk tier's drive, bytes/s per GPU (one drive per GPU),
   * and its read latency, ms. A disk block reaches the GPU across the host link too, so it moves at
   * the slower of the two.
   */
  readonly diskReadBytesPerS: number;
  readonly diskReadLatencyMs: number;
}

/** Bytes per activation element crossing the all-reduce (activations stay 16-bit). */
const ACTIVATION_BYTES = 2;
/** Two all-reduces per layer under tensor parallelism: after attention and after the MLP. */
const ALL_REDUCES_PER_LAYER = 2;
/** Bytes per LoRA weight: vLLM's `lora_dtype` `auto` keeps the model's 16-bit activation dtype. */
const LORA_WEIGHT_BYTES = 2;

/**
 * A `PerfModel` over a roofline spec. `stepMs` is O(prefill chunks) and allocates nothing.
 * An empty step (nothing decoded, prefilled or loaded) takes 0 ms.
 */
export function createRooflinePerfModel(spec: RooflineSpec): PerfModel {
  const tp = spec.tp;
  const window = spec.slidingWindowLayers > 0 ? spec.slidingWindowTokens : 0;
  const windowLayers = window > 0 ? spec.slidingWindowLayers : 0;
  const fullLayers = spec.numLayers - windowLayers;
  // Attention FLOPs per (query, context) pair and layer on one GPU: 2 x heads x (qk + v) / tp.
  const attnFlopsPerPairLayer = (2 * spec.numAttentionHeads * (spec.attnQkHeadDim + spec.attnVHeadDim)) / tp;
  // A token's matmul time outside attention, ms: the dense part and the routed experts at their own rates.
  const denseMatmulFlopsPerToken = (2 * (spec.matmulParamsPerToken - spec.expertParamsPerToken)) / tp;
  const expertFlopsPerToken = (2 * spec.expertParamsPerToken) / tp;
  const lmHeadFlops = (2 * spec.lmHeadParams) / tp;
  const matmulFlopsPerMs = spec.matmulFlopsPerS / 1000;
  const tokenMatmulMs = denseMatmulFlopsPerToken / matmulFlopsPerMs;
  // One row of one routed expert's GEMMs (all its layers), ms.
  const expertRowMs =
    spec.expertParamsPerToken > 0
      ? expertFlopsPerToken / spec.expertsPerToken / (spec.expertFlopsPerS / 1000)
      : 0;
  const tile = spec.expertTileRows;
  const lmHeadMs = lmHeadFlops / matmulFlopsPerMs;
  const kvBytesPerTokenLayer = spec.kvBytesPerTokenPerGpu / spec.numLayers;
  const attentionFlopsPerMs = spec.attentionFlopsPerS / 1000;
  const memoryBytesPerMs = (spec.memoryEfficiency * spec.memoryBytesPerS) / 1000;
  const layersMs = spec.perLayerMs * spec.numLayers;
  const hostBytesPerMs = spec.hostLinkBytesPerS / 1000;
  // NVMe → GPU directly (GPUDirect Storage) or through a host bounce buffer: either way the bytes
  // stream at the slower of the drive and the host link (docs/kv-tiers.md#transfer-time).
  const diskBytesPerMs = Math.min(spec.diskReadBytesPerS, spec.hostLinkBytesPerS) / 1000;
  const moeMissShare = spec.numExperts > 0 ? 1 - spec.expertsPerToken / spec.numExperts : 1;
  const allExpertBytes = spec.numExperts * spec.expertBytesPerGpu;
  const allReduceBytesPerToken = tp > 1 ? ((2 * (tp - 1)) / tp) * spec.hiddenSize * ACTIVATION_BYTES : 0;
  const allReduceCalls = tp > 1 ? ALL_REDUCES_PER_LAYER * spec.numLayers : 0;
  const allReduceLinkBytesPerMs = spec.allReduceBytesPerS / 1000;
  const ringBytesPerMs = (spec.allReduceRingBytesPerS ?? 0) / 1000;
  const ringLatencyMs = spec.allReduceRingLatencyMs ?? 0;

  function stepMs(work: StepWork): number {
    const decodeSeqs = work.decodeSeqs;
    const decodeContext = work.decodeContextTokens;
    let chunks = 0;
    let prefillTokens = 0;
    let prefillPairsFull = 0;
    let prefillPairsWindow = 0;
    let prefillContextFull = 0;
    let prefillContextWindow = 0;
    for (const chunk of work.prefillChunks) {
      if (chunk.tokens <= 0) continue;
      chunks += 1;
      prefillTokens += chunk.tokens;
      // Causal attention: the chunk's i-th token sees the cached context plus i earlier chunk tokens.
      const meanSpan = chunk.contextTokens + (chunk.tokens + 1) / 2;
      prefillPairsFull += chunk.tokens * meanSpan;
      prefillContextFull += chunk.contextTokens;
      if (window > 0) {
        prefillPairsWindow += chunk.tokens * Math.min(meanSpan, window);
        prefillContextWindow += Math.min(chunk.contextTokens, window);
      }
    }
    const tokens = decodeSeqs + prefillTokens;
    const hostMs =
      work.hostLoadTokens > 0 ? (work.hostLoadTokens * spec.kvBytesPerTokenPerGpu) / hostBytesPerMs : 0;
    const diskTokens = work.diskLoadTokens ?? 0;
    // KVBM onboards one request's blocks after another, host and disk alike: the loads add up.
    const loadMs =
      diskTokens > 0
        ? hostMs +
          (work.diskLoadRequests ?? 1) * spec.diskReadLatencyMs +
          (diskTokens * spec.kvBytesPerTokenPerGpu) / diskBytesPerMs
        : hostMs;
    if (tokens === 0) return loadMs > 0 ? spec.fixedStepOverheadMs + loadMs : 0;

    // Each decoding sequence attends over its whole context (sliding layers: the last `window` only).
    const decodeWindowContext = window > 0 ? Math.min(decodeContext, decodeSeqs * window) : 0;
    const decodeAttnFlops =
      attnFlopsPerPairLayer * (fullLayers * decodeContext + windowLayers * decodeWindowContext);
    const prefillAttnFlops =
      attnFlopsPerPairLayer * (fullLayers * prefillPairsFull + windowLayers * prefillPairsWindow);
    let matmulComputeMs = tokens * tokenMatmulMs + (decodeSeqs + chunks) * lmHeadMs;
    // Routed experts: the step's tokens x k rows spread over the experts they touch (the
    // coupon-collector expectation), each expert's rows padded to whole tiles: half a tile on
    // average once it has more than half a tile of tokens, a whole tile below that.
    const touchedExperts = allExpertBytes > 0 ? spec.numExperts * (1 - Math.pow(moeMissShare, tokens)) : 0;
    if (touchedExperts > 0) {
      const rows = tokens * spec.expertsPerToken;
      const paddedRows =
        tile > 0 ? Math.max(rows + (touchedExperts * tile) / 2, touchedExperts * tile) : rows;
      matmulComputeMs += paddedRows * expertRowMs;
    }

    const expertBytes = touchedExperts * spec.expertBytesPerGpu;
    let weightBytes = spec.streamedWeightBytesPerGpu + expertBytes;
    // LoRA's shrink and expand matmuls (x·A, then ·B) beside each adapted layer, sharded like it.
    const loraTokenParams = work.loraTokenParams ?? 0;
    if (loraTokenParams > 0) {
      matmulComputeMs += (2 * loraTokenParams) / tp / matmulFlopsPerMs;
      weightBytes += ((work.loraAdapterParams ?? 0) * LORA_WEIGHT_BYTES) / tp;
    }
    const decodeKvBytes =
      kvBytesPerTokenLayer * (fullLayers * decodeContext + windowLayers * decodeWindowContext);
    const prefillKvBytes =
      kvBytesPerTokenLayer * (fullLayers * prefillContextFull + windowLayers * prefillContextWindow);
    const kvWriteBytes = tokens * spec.kvBytesPerTokenPerGpu;

    const matmulMs = Math.max(matmulComputeMs, weightBytes / memoryBytesPerMs);
    // Decode attention is usually bound by its KV read, prefill attention by its FLOPs; each its own roofline.
    const attentionMs =
      Math.max(decodeAttnFlops / attentionFlopsPerMs, (decodeKvBytes + kvWriteBytes) / memoryBytesPerMs) +
      Math.max(prefillAttnFlops / attentionFlopsPerMs, prefillKvBytes / memoryBytesPerMs);
    // Each call takes the cheaper way: one-shot while the message is small, the ring once its bytes
    // outweigh the ring's longer latency.
    let allReduceMs = 0;
    if (allReduceCalls > 0) {
      const volume = tokens * allReduceBytesPerToken;
      const oneShot = volume / allReduceLinkBytesPerMs + spec.allReduceLatencyMs;
      const ring = ringBytesPerMs > 0 ? volume / ringBytesPerMs + ringLatencyMs : Infinity;
      allReduceMs = allReduceCalls * Math.min(oneShot, ring);
    }
    const gpuMs = spec.fixedStepOverheadMs + layersMs + matmulMs + attentionMs + allReduceMs + loadMs;
    return Math.max(gpuMs, spec.frontendMsPerSeq * (decodeSeqs + chunks));
  }

  const frontend =
    spec.frontendMsPerSeq > 0 || spec.frontendIntakeMs > 0
      ? { intakeMs: spec.frontendIntakeMs, msPerSeq: spec.frontendMsPerSeq }
      : undefined;
  return { stepMs, frontend };
}
