/**
 * How many parameters a LoRA adapter adds to a model: for each adapted linear layer of shape
 * d_in × d_out, rank × (d_in + d_out) (the A and B matrices; vLLM's punica kernels apply them as
 * a "shrink" x·A then an "expand" ·B, vllm/lora/punica_wrapper/punica_base.py `add_lora_linear`),
 * summed over the modules the adapter targets and over every layer. The engine charges 2 FLOPs per
 * parameter per token and reads each adapter's weights once per step (docs/lora.md#timing).
 *
 * The module shapes come from the model card; the MLP's width is not on the card, so it is derived
 * from the active parameter count (what the embeddings and attention leave, over the three MLP
 * matrices): exact enough for a cost that is a fraction of a percent of the base model's.
 */
import type { ModelCard } from './model-card.js';

/** Module names Hugging Face PEFT writes in `target_modules` for Llama-style models, and NeMo's. */
export const LORA_MODULES = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
  'attention_qkv',
  'attention_dense',
  'mlp_fc1',
  'mlp_fc2',
] as const;

export type LoraModule = (typeof LORA_MODULES)[number];

/**
 * What Hugging Face PEFT adapts when `target_modules` is not given: q_proj and v_proj for Llama,
 * Mistral and Mixtral (`TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING`, peft/utils/constants.py).
 */
export const PEFT_DEFAULT_TARGETS: readonly LoraModule[] = ['q_proj', 'v_proj'];

/** NeMo's LoRA default (`target_modules: [attention_qkv]`), for a .nemo adapter whose config is not read. */
export const NEMO_DEFAULT_TARGETS: readonly LoraModule[] = ['attention_qkv'];

/** Where each module sits in a Hugging Face Llama checkpoint, for matching a `target_modules` regex. */
const QUALIFIED: Record<LoraModule, string> = {
  q_proj: 'model.layers.0.self_attn.q_proj',
  k_proj: 'model.layers.0.self_attn.k_proj',
  v_proj: 'model.layers.0.self_attn.v_proj',
  o_proj: 'model.layers.0.self_attn.o_proj',
  gate_proj: 'model.layers.0.mlp.gate_proj',
  up_proj: 'model.layers.0.mlp.up_proj',
  down_proj: 'model.layers.0.mlp.down_proj',
  attention_qkv: 'model.layers.0.self_attention.attention_qkv',
  attention_dense: 'model.layers.0.self_attention.attention_dense',
  mlp_fc1: 'model.layers.0.mlp.mlp_fc1',
  mlp_fc2: 'model.layers.0.mlp.mlp_fc2',
};

const HF_LINEAR: readonly LoraModule[] = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
];

/**
 * The modules an adapter_config.json's `target_modules` names: a list of module names (the known
 * ones kept), PEFT's `all-linear`, or a regex PEFT matches against each module's full name.
 * Absent, empty or unusable: PEFT's default.
 */
export function resolveTargetModules(targetModules: unknown): readonly LoraModule[] {
  if (Array.isArray(targetModules)) {
    const known = targetModules.filter((m): m is LoraModule => LORA_MODULES.includes(m as LoraModule));
    return known.length > 0 ? known : PEFT_DEFAULT_TARGETS;
  }
  if (typeof targetModules === 'string') {
    if (targetModules === 'all-linear') return HF_LINEAR;
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${targetModules})$`);
    } catch {
      return PEFT_DEFAULT_TARGETS;
    }
    const matched = LORA_MODULES.filter((m) => re.test(QUALIFIED[m]));
    return matched.length > 0 ? matched : PEFT_DEFAULT_TARGETS;
  }
  return PEFT_DEFAULT_TARGETS;
}

/** Parameters per unit of rank: numLayers × Σ over `modules` of (d_in + d_out). */
export function loraParamsPerRank(model: ModelCard, modules: readonly LoraModule[]): number {
  const h = model.hiddenSize;
  const q = model.numAttentionHeads * model.headDim;
  const kv = model.numKvHeads * model.headDim;
  const ff = mlpWidth(model);
  const sides: Record<LoraModule, number> = {
    q_proj: h + q,
    k_proj: h + kv,
    v_proj: h + kv,
    o_proj: q + h,
    gate_proj: h + ff,
    up_proj: h + ff,
    down_proj: ff + h,
    attention_qkv: h + q + 2 * kv,
    attention_dense: q + h,
    // NeMo fuses gate and up into one fc1 of width 2 × ff.
    mlp_fc1: h + 2 * ff,
    mlp_fc2: ff + h,
  };
  let sum = 0;
  for (const m of new Set(modules)) sum += sides[m];
  return model.numLayers * sum;
}

/**
 * The MLP's intermediate width, from the active parameters: what is left after the input
 * embedding, the LM head and the attention projections, over the layers' three MLP matrices
 * (gate, up, down of hidden × width). For a mixture of experts it is the width of the experts a
 * token passes through together. At least the hidden size.
 */
export function mlpWidth(model: ModelCard): number {
  const h = model.hiddenSize;
  const attention = h * (2 * model.numAttentionHeads * model.headDim + 2 * model.numKvHeads * model.headDim);
  const rest = model.activeParams - 2 * model.vocabSize * h - model.numLayers * attention;
  return Math.max(h, Math.round(rest / (3 * model.numLayers * h)));
}
