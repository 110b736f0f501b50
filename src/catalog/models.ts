/**
 * The simulated models, keyed by NIM model name. Architecture numbers are the models' published
 * config.json values (Hugging Face repositories named in each entry); parameter counts are the
 * published totals, and the per-expert and shared counts are derived from the config shapes. What
 * each field means is model-card.ts; the weight and KV bytes derived from them, model-sizing.ts.
 */
import type { ModelCard } from './model-card.js';
import type { PrecisionKey } from './precisions.js';

const LLAMA_PRECISIONS: readonly PrecisionKey[] = ['bf16', 'fp16', 'fp8', 'nvfp4', 'int4_awq'];
const ngc = (org: string, name: string): string =>
  `https://catalog.ngc.nvidia.com/orgs/nim/teams/${org}/models/${name}`;

const llama8b = {
  tokenizer: 'llama3',
  maxModelLen: 131072, // meta-llama/Llama-3.1-8B-Instruct config.json max_position_embeddings
  numLayers: 32, // same config.json num_hidden_layers
  hiddenSize: 4096, // hidden_size
  numAttentionHeads: 32, // num_attention_heads
  numKvHeads: 8, // num_key_value_heads
  headDim: 128, // hidden_size / num_attention_heads
  vocabSize: 128256, // vocab_size
  attnQkHeadDim: 128,
  attnVHeadDim: 128,
  totalParams: 8_030_261_248, // Hugging Face safetensors metadata of the same repository
  activeParams: 8_030_261_248, // dense
  precisions: LLAMA_PRECISIONS,
} as const;

const llama70b = {
  tokenizer: 'llama3',
  maxModelLen: 131072, // meta-llama/Llama-3.3-70B-Instruct config.json max_position_embeddings
  numLayers: 80, // num_hidden_layers
  hiddenSize: 8192, // hidden_size
  numAttentionHeads: 64, // num_attention_heads
  numKvHeads: 8, // num_key_value_heads
  headDim: 128, // hidden_size / num_attention_heads
  vocabSize: 128256, // vocab_size
  attnQkHeadDim: 128,
  attnVHeadDim: 128,
  totalParams: 70_553_706_496, // Hugging Face safetensors metadata (3.1 and 3.3 share the architecture)
  activeParams: 70_553_706_496, // dense
  precisions: LLAMA_PRECISIONS,
} as const;

export const MODELS: Readonly<Record<string, ModelCard>> = {
  'meta/llama-3.1-8b-instruct': {
    name: 'meta/llama-3.1-8b-instruct',
    shortName: 'meta/llama-3.1-8b-instruct',
    ownedBy: 'meta',
    modelUrl: ngc('meta', 'llama-3.1-8b-instruct'),
    ...llama8b,
  },
  'meta/llama-3.3-70b-instruct': {
    name: 'meta/llama-3.3-70b-instruct',
    shortName: 'meta/llama-3.3-70b-instruct',
    ownedBy: 'meta',
    modelUrl: ngc('meta', 'llama-3.3-70b-instruct'),
    ...llama70b,
  },
  'meta/llama-3.1-70b-instruct': {
    name: 'meta/llama-3.1-70b-instruct',
    shortName: 'meta/llama-3.1-70b-instruct',
    ownedBy: 'meta',
    modelUrl: ngc('meta', 'llama-3.1-70b-instruct'),
    ...llama70b,
  },
  'meta/llama-3.1-405b-instruct': {
    name: 'meta/llama-3.1-405b-instruct',
    shortName: 'meta/llama-3.1-405b-instruct',
    ownedBy: 'meta',
    modelUrl: ngc('meta', 'llama-3.1-405b-instruct'),
    tokenizer: 'llama3',
    maxModelLen: 131072, // meta-llama/Llama-3.1-405B-Instruct config.json max_position_embeddings
    numLayers: 126, // num_hidden_layers
    hiddenSize: 16384, // hidden_size
    numAttentionHeads: 128, // num_attention_heads
    numKvHeads: 8, // num_key_value_heads
    headDim: 128, // hidden_size / num_attention_heads
    vocabSize: 128256, // vocab_size
    attnQkHeadDim: 128,
    attnVHeadDim: 128,
    totalParams: 405_853_388_800, // (derived: config shapes, 126 x 3.188e9 per layer + 2 x 128256 x 16384)
    activeParams: 405_853_388_800, // dense
    precisions: ['bf16', 'fp8', 'nvfp4'],
  },
  'mistralai/mixtral-8x7b-instruct-v01': {
    name: 'mistralai/mixtral-8x7b-instruct-v01',
    shortName: 'mistralai/mixtral-8x7b-instruct-v01',
    ownedBy: 'mistralai',
    modelUrl: ngc('mistralai', 'mixtral-8x7b-instruct-v01'),
    tokenizer: 'mistral',
    maxModelLen: 32768, // mistralai/Mixtral-8x7B-Instruct-v0.1 config.json max_position_embeddings
    numLayers: 32, // num_hidden_layers
    hiddenSize: 4096, // hidden_size
    numAttentionHeads: 32, // num_attention_heads
    numKvHeads: 8, // num_key_value_heads
    headDim: 128, // hidden_size / num_attention_heads
    vocabSize: 32000, // vocab_size
    attnQkHeadDim: 128,
    attnVHeadDim: 128,
    totalParams: 46_702_792_704, // Hugging Face safetensors metadata
    activeParams: 12_879_925_248, // (derived: shared + 2 experts; Mistral AI announces "12.9B active")
    moe: {
      numExperts: 8, // num_local_experts
      expertsPerToken: 2, // num_experts_per_tok
      paramsPerExpert: 5_637_144_576, // (derived: 3 x 4096 x 14336 (intermediate_size) x 32 layers)
      sharedParams: 1_605_636_096, // (derived: total - 8 experts)
    },
    precisions: ['bf16', 'fp16', 'fp8'],
  },
  'openai/gpt-oss-120b': {
    name: 'openai/gpt-oss-120b',
    shortName: 'openai/gpt-oss-120b',
    ownedBy: 'openai',
    modelUrl: ngc('openai', 'gpt-oss-120b'),
    tokenizer: 'o200k',
    maxModelLen: 131072, // openai/gpt-oss-120b config.json max_position_embeddings
    numLayers: 36, // num_hidden_layers
    hiddenSize: 2880, // hidden_size
    numAttentionHeads: 64, // num_attention_heads
    numKvHeads: 8, // num_key_value_heads
    headDim: 64, // head_dim
    vocabSize: 201088, // vocab_size
    attnQkHeadDim: 64,
    attnVHeadDim: 64,
    totalParams: 116_830_000_000, // gpt-oss model card, "116.83B" total
    // (derived: the card's 5.13B active excludes the 0.58B input embedding, which these cards count)
    activeParams: 5_709_000_000,
    moe: {
      numExperts: 128, // num_local_experts
      expertsPerToken: 4, // experts_per_token
      // (derived: (2880 x 5760 + 2880 x 2880 + biases) x 36 layers, intermediate_size 2880, gated)
      paramsPerExpert: 896_106_240,
      sharedParams: 2_128_401_280, // (derived: total - 128 experts)
      // openai/gpt-oss-120b model card: "MXFP4 quantization of the MoE weights", the rest BF16
      // (config.json quantization_config modules_to_not_convert: attention, router, embeddings, LM head)
      mxfp4Experts: true,
    },
    // config.json sliding_window 128 with layer_types alternating sliding/full over 36 layers
    slidingWindow: { tokens: 128, layers: 18 },
    precisions: ['bf16', 'fp8', 'nvfp4'],
    reasoning: 'reasoning_effort',
    // Harmony writes each call as its own commentary-channel message (openai/harmony docs), and
    // vLLM's `openai` tool parser returns every one of them
    parallelToolCalls: true,
  },
  'deepseek-ai/deepseek-r1': {
    name: 'deepseek-ai/deepseek-r1',
    shortName: 'deepseek-ai/deepseek-r1',
    ownedBy: 'deepseek-ai',
    modelUrl: ngc('deepseek-ai', 'deepseek-r1'),
    tokenizer: 'deepseek',
    maxModelLen: 163840, // deepseek-ai/DeepSeek-R1 config.json max_position_embeddings
    numLayers: 61, // num_hidden_layers (3 dense + 58 MoE, first_k_dense_replace 3)
    hiddenSize: 7168, // hidden_size
    numAttentionHeads: 128, // num_attention_heads
    numKvHeads: 128, // num_key_value_heads (MLA: the cache holds a latent, see `mla`)
    headDim: 192, // qk_nope_head_dim 128 + qk_rope_head_dim 64
    vocabSize: 129280, // vocab_size
    // Decode runs MLA in its absorbed form: scores over the 512 + 64 latent, values in the 512 latent
    attnQkHeadDim: 576,
    attnVHeadDim: 512,
    totalParams: 671_000_000_000, // DeepSeek-V3 technical report, "671B total parameters" (MTP head excluded)
    activeParams: 37_000_000_000, // same report, "37B activated for each token"
    moe: {
      numExperts: 256, // n_routed_experts
      expertsPerToken: 8, // num_experts_per_tok
      paramsPerExpert: 2_554_331_136, // (derived: 3 x 7168 x 2048 (moe_intermediate_size) x 58 MoE layers)
      sharedParams: 17_091_229_184, // (derived: total - 256 experts)
    },
    mla: {
      kvLoraRank: 512, // kv_lora_rank
      qkRopeHeadDim: 64, // qk_rope_head_dim
    },
    // The checkpoint is FP8 (block-scaled) natively; NVIDIA publishes an NVFP4 variant
    precisions: ['fp8', 'nvfp4'],
    reasoning: 'always',
    // Its tool template writes each call of an assistant message as one <｜tool▁call▁begin｜> entry
    // (vLLM examples/tool_chat_template_deepseekr1.jinja), which vLLM's deepseek_v3 parser splits
    parallelToolCalls: true,
  },
  // NIM model name as in NIM's "Use Reasoning Models" page (see ReasoningSwitch). A NAS-pruned
  // derivative of Llama 3.3 70B (nvidia/Llama-3_3-Nemotron-Super-49B-v1 config.json, DeciLM):
  // some of its 80 blocks have no attention, which this dense description does not model, so its
  // KV per token is that of 80 attention layers (an upper bound).
  'nvidia/llama-3.3-nemotron-super-49b-v1': {
    name: 'nvidia/llama-3.3-nemotron-super-49b-v1',
    shortName: 'nvidia/llama-3.3-nemotron-super-49b-v1',
    ownedBy: 'nvidia',
    modelUrl: ngc('nvidia', 'llama-3.3-nemotron-super-49b-v1'),
    tokenizer: 'llama3',
    maxModelLen: 131072, // config.json max_position_embeddings (model card: 128K context)
    numLayers: 80, // num_hidden_layers
    hiddenSize: 8192, // hidden_size
    numAttentionHeads: 64, // num_attention_heads
    numKvHeads: 8, // block_configs attention n_heads_in_group 8 (64 / 8)
    headDim: 128, // hidden_size / num_attention_heads
    vocabSize: 128256, // vocab_size (the Llama 3 tokenizer)
    attnQkHeadDim: 128,
    attnVHeadDim: 128,
    totalParams: 49_900_000_000, // model card and Hugging Face: 49.9B (rounded)
    activeParams: 49_900_000_000, // dense
    precisions: ['bf16', 'fp8'],
    reasoning: 'system_prompt',
  },
  // Embedding models. Max tokens, parameters, dimensions and precisions: NeMo Retriever Text
  // Embedding NIM support matrix
  // (https://docs.nvidia.com/nim/nemo-retriever/text-embedding/1.3.1/support-matrix.html). Their
  // WordPiece / Llama 3.2 tokenizers are stood in for by the Llama 3 one (docs/embeddings.md).
  'nvidia/nv-embedqa-e5-v5': {
    name: 'nvidia/nv-embedqa-e5-v5',
    shortName: 'nvidia/nv-embedqa-e5-v5',
    ownedBy: 'nvidia',
    modelUrl: ngc('nvidia', 'nv-embedqa-e5-v5'),
    tokenizer: 'llama3',
    maxModelLen: 512, // support matrix: Max Tokens 512
    // An E5-large (BERT-large) encoder: intfloat/e5-large-v2 config.json
    numLayers: 24, // num_hidden_layers
    hiddenSize: 1024, // hidden_size
    numAttentionHeads: 16, // num_attention_heads
    numKvHeads: 16, // no grouped-query attention
    headDim: 64, // hidden_size / num_attention_heads
    vocabSize: 30522, // vocab_size
    attnQkHeadDim: 64,
    attnVHeadDim: 64,
    totalParams: 335_000_000, // support matrix: 335 (millions)
    activeParams: 335_000_000, // dense
    precisions: ['fp16'], // support matrix: FP16 on every GPU listed
    embedding: { dimensions: 1024, asymmetric: true }, // support matrix: Embedding 1024, no dynamic sizes
  },
  'nvidia/llama-3.2-nv-embedqa-1b-v2': {
    name: 'nvidia/llama-3.2-nv-embedqa-1b-v2',
    shortName: 'nvidia/llama-3.2-nv-embedqa-1b-v2',
    ownedBy: 'nvidia',
    modelUrl: ngc('nvidia', 'llama-3.2-nv-embedqa-1b-v2'),
    tokenizer: 'llama3',
    maxModelLen: 8192, // support matrix: Max Tokens 8192
    // A fine-tuned Llama 3.2 1B: meta-llama/Llama-3.2-1B config.json
    numLayers: 16, // num_hidden_layers
    hiddenSize: 2048, // hidden_size
    numAttentionHeads: 32, // num_attention_heads
    numKvHeads: 8, // num_key_value_heads
    headDim: 64, // head_dim
    vocabSize: 128256, // vocab_size
    attnQkHeadDim: 64,
    attnVHeadDim: 64,
    totalParams: 1_236_000_000, // support matrix: 1236 (millions)
    activeParams: 1_236_000_000, // dense
    precisions: ['fp16', 'fp8'], // support matrix: FP16, and FP8 on H100 and L40S
    embedding: {
      dimensions: 2048, // support matrix: Embedding 2048, dynamic embeddings yes
      // NeMo customizer's model page: "2048 (configurable: 384, 512, 768, 1024, or 2048)"
      dynamicDimensions: [384, 512, 768, 1024, 2048],
      asymmetric: true,
    },
  },
};

export const MODEL_NAMES: readonly string[] = Object.keys(MODELS);
export const DEFAULT_MODEL_NAME = 'meta/llama-3.1-8b-instruct';

/** The model with that NIM name, or undefined. */
export function findModel(name: string): ModelCard | undefined {
  return Object.hasOwn(MODELS, name) ? MODELS[name] : undefined;
}
