/**
 * What the simulator knows of a model: the model card's fields (NIM names, tokenizer, architecture
 * shapes, parameter counts, precisions) and what kind of model it is (mixture of experts, latent
 * attention, reasoning, parallel tool calls, embedding). The cards themselves are in models.ts; the
 * sizing rules derived from them (weight and KV bytes) in model-sizing.ts.
 */
import type { PrecisionKey } from './precisions.js';

export type TokenizerKind = 'llama3' | 'mistral' | 'o200k' | 'deepseek';

/**
 * How a reasoning model is switched into reasoning (docs/api.md#reasoning-models):
 * - `always`: it always thinks first (DeepSeek-R1);
 * - `reasoning_effort`: it always thinks, as long as the request's `reasoning_effort` says
 *   (gpt-oss: low, medium (default), high);
 * - `system_prompt`: it thinks only when the first message is the system prompt `detailed thinking
 *   on` (Llama 3.3 Nemotron Super 49B v1; NIM "Use Reasoning Models",
 *   https://docs.nvidia.com/nim/large-language-models/latest/reasoning-model.html).
 */
export type ReasoningSwitch = 'always' | 'reasoning_effort' | 'system_prompt';

/** Routed mixture-of-experts layers. */
export interface MoeSpec {
  readonly numExperts: number;
  readonly expertsPerToken: number;
  /** Parameters of one routed expert summed over all MoE layers. */
  readonly paramsPerExpert: number;
  /** Every parameter that is not a routed expert (attention, shared experts, dense layers, embeddings). */
  readonly sharedParams: number;
  /**
   * The checkpoint ships its routed experts in MXFP4 and every other weight in BF16, whatever the
   * profile's precision (gpt-oss: "MoE weights ... quantized to MXFP4", model card). The profile's
   * precision then sets only the KV cache. Absent: the profile's precision quantizes every linear layer.
   */
  readonly mxfp4Experts?: boolean | undefined;
}

/** DeepSeek multi-head latent attention: the KV cache stores one compressed latent per token and layer. */
export interface MlaSpec {
  readonly kvLoraRank: number;
  readonly qkRopeHeadDim: number;
}

export interface ModelCard {
  /** NIM model name (`NIM_MODEL_NAME`, the served model id). */
  readonly name: string;
  /** `modelInfo[].shortName` in /v1/metadata. */
  readonly shortName: string;
  /** Publisher, for `owned_by`. */
  readonly ownedBy: string;
  /** NGC catalog page (`modelInfo[].modelUrl`), pattern in docs/nim-api.md#metadata. */
  readonly modelUrl: string;
  readonly tokenizer: TokenizerKind;
  /** Default context length in tokens (config.json `max_position_embeddings`). */
  readonly maxModelLen: number;
  readonly numLayers: number;
  readonly hiddenSize: number;
  readonly numAttentionHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  /** Query-key and value widths per head that attention FLOPs scale with. */
  readonly attnQkHeadDim: number;
  readonly attnVHeadDim: number;
  readonly totalParams: number;
  /** Parameters a token passes through, input embedding and LM head included. */
  readonly activeParams: number;
  readonly moe?: MoeSpec | undefined;
  readonly mla?: MlaSpec | undefined;
  /** Layers that attend only to the last `tokens` positions (gpt-oss alternates them). */
  readonly slidingWindow?: { readonly tokens: number; readonly layers: number } | undefined;
  /** Checkpoint precisions the profiles of this model exist in. */
  readonly precisions: readonly PrecisionKey[];
  /** A reasoning model: how a request turns its reasoning on. Absent = a plain chat model. */
  readonly reasoning?: ReasoningSwitch | undefined;
  /**
   * The model makes several tool calls in one turn, and its chat template takes them back in one
   * assistant message (docs/api.md#tool-calls). Absent = one call per turn: the Llama 3.1 / 3.3
   * template refuses several ("This model only supports single tool-calls at once!") and NIM's
   * function-calling table lists them with "Parallel Tool Calls Supported: No".
   */
  readonly parallelToolCalls?: boolean | undefined;
  /**
   * An embedding model (a NeMo Retriever text embedding NIM): it serves `POST /v1/embeddings` and
   * none of the generation routes (docs/embeddings.md). Absent = a generative model.
   */
  readonly embedding?: EmbeddingSpec | undefined;
}

/** What an embedding model answers (NeMo Retriever Text Embedding NIM support matrix). */
export interface EmbeddingSpec {
  /** Length of its vectors. */
  readonly dimensions: number;
  /** Shorter lengths `dimensions` may ask for (Matryoshka); absent = only the full length. */
  readonly dynamicDimensions?: readonly number[] | undefined;
  /** Queries and passages are embedded apart: `input_type` is required. */
  readonly asymmetric: boolean;
}
