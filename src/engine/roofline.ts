/**
 * The roofline step-time model (docs/performance-model.md#step-time): one engine step costs a fixed
 * overhead, plus a per-sequence serving overhead, plus the larger of its compute time and its memory
 * time, plus tensor-parallel all-reduces and any host-to-GPU KV transfer.
 *
 * - compute: 2 FLOPs per matmul parameter per token (LM head once per decode token and once per
 *   prefill chunk) plus attention FLOPs over every (query, context) pair, at `mfu x peak` per GPU;
 * - memory: the weights once per step (for MoE, only the experts the step's tokens are expected to
 *   touch: E x (1 - (1 - k/E)^tokens), the coupon-collector expectation), the KV read of every
 *   context, and the KV written, at `mbu x bandwidth`.
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
  /** Dense peak FLOP/s of the compute dtype, one GPU. */
  readonly peakFlopsPerGpu: number;
  /** Peak device-memory bandwidth, bytes/s, one GPU. */
  readonly memoryBytesPerS: number;
  /** Achieved fraction of peak FLOP/s for prefill and decode tokens. */
  readonly mfuPrefill: number;
  readonly mfuDecode: number;
  /** Achieved fraction of peak memory bandwidth. */
  readonly mbu: number;
  /** Tensor-parallel size. */
  readonly tp: number;
  /** Link bandwidth of the all-reduce, bytes/s per direction, and fixed latency per call in ms. */
  readonly allReduceBytesPerS: number;
  readonly allReduceLatencyMs: number;
  /** Scheduler, launch and sampling cost of any step, ms. */
  readonly fixedStepOverheadMs: number;
  /** Serving cost per scheduled sequence (decode or prefill chunk) per step, ms. */
  readonly perSeqOverheadMs: number;
  /** Host (CPU) to GPU bandwidth for KV loaded from the host tier, bytes/s per GPU. */
  readonly hostLinkBytesPerS: number;
}

/** Bytes per activation element crossing the all-reduce (activations stay 16-bit). */
const ACTIVATION_BYTES = 2;
/** Two all-reduces per layer under tensor parallelism: after attention and after the MLP. */
const ALL_REDUCES_PER_LAYER = 2;

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
  const matmulFlopsPerToken = (2 * spec.matmulParamsPerToken) / tp;
  const lmHeadFlops = (2 * spec.lmHeadParams) / tp;
  const kvBytesPerTokenLayer = spec.kvBytesPerTokenPerGpu / spec.numLayers;
  const prefillFlopsPerMs = (spec.mfuPrefill * spec.peakFlopsPerGpu) / 1000;
  const decodeFlopsPerMs = (spec.mfuDecode * spec.peakFlopsPerGpu) / 1000;
  const memoryBytesPerMs = (spec.mbu * spec.memoryBytesPerS) / 1000;
  const hostBytesPerMs = spec.hostLinkBytesPerS / 1000;
  const moeMissShare = spec.numExperts > 0 ? 1 - spec.expertsPerToken / spec.numExperts : 1;
  const allExpertBytes = spec.numExperts * spec.expertBytesPerGpu;
  const allReduceBytesPerToken = tp > 1 ? ((2 * (tp - 1)) / tp) * spec.hiddenSize * ACTIVATION_BYTES : 0;
  const allReduceCalls = tp > 1 ? ALL_REDUCES_PER_LAYER * spec.numLayers : 0;
  const allReduceLinkBytesPerMs = spec.allReduceBytesPerS / 1000;

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
    if (tokens === 0) return hostMs > 0 ? spec.fixedStepOverheadMs + hostMs : 0;

    // Each decoding sequence attends over its whole context (sliding layers: the last `window` only).
    const decodeWindowContext = window > 0 ? Math.min(decodeContext, decodeSeqs * window) : 0;
    const decodeFlops =
      decodeSeqs * (matmulFlopsPerToken + lmHeadFlops) +
      attnFlopsPerPairLayer * (fullLayers * decodeContext + windowLayers * decodeWindowContext);
    const prefillFlops =
      prefillTokens * matmulFlopsPerToken +
      chunks * lmHeadFlops +
      attnFlopsPerPairLayer * (fullLayers * prefillPairsFull + windowLayers * prefillPairsWindow);
    const computeMs = prefillFlops / prefillFlopsPerMs + decodeFlops / decodeFlopsPerMs;

    const expertBytes = allExpertBytes > 0 ? allExpertBytes * (1 - Math.pow(moeMissShare, tokens)) : 0;
    const kvReadBytes =
      kvBytesPerTokenLayer *
      (fullLayers * (decodeContext + prefillContextFull) +
        windowLayers * (decodeWindowContext + prefillContextWindow));
    const kvWriteBytes = tokens * spec.kvBytesPerTokenPerGpu;
    const memoryMs =
      (spec.streamedWeightBytesPerGpu + expertBytes + kvReadBytes + kvWriteBytes) / memoryBytesPerMs;

    const allReduceMs =
      allReduceCalls *
      ((tokens * allReduceBytesPerToken) / allReduceLinkBytesPerMs + spec.allReduceLatencyMs);

    return (
      spec.fixedStepOverheadMs +
      spec.perSeqOverheadMs * (decodeSeqs + chunks) +
      Math.max(computeMs, memoryMs) +
      allReduceMs +
      hostMs
    );
  }

  return { stepMs };
}
