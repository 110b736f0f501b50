/**
 * What the serving layer needs to answer requests, built once by `createServingContext`: the
 * engine, the tokenizer and the settings that shape requests. Routes and serving classes receive
 * this instead of the whole configuration.
 *
 * The engine is reached through this one reference only (`ctx.engine`), so an object that stands
 * in for it — several replicas behind a router, implementing the same Engine interface — changes
 * nothing above this line.
 */
import type { EmbeddingSpec } from '../catalog/model-card.js';
import { findModel } from '../catalog/models.js';
import type { Config } from '../config/config.js';
import type { RuleStore } from '../content/rules/rule-store.js';
import type { Tokenizer } from '../content/tokenizer.js';
import type { Engine } from '../engine/engine.js';
import type { LoraRegistry } from '../lora/lora-registry.js';
import type { Runtime } from '../runtime.js';
import type { ApiCompat } from './errors.js';
import { createResponsesStore, type ResponsesStore } from './responses-store.js';
import type { GenerationSettings } from './to-engine.js';

export interface ServingContext {
  readonly engine: Engine;
  readonly tokenizer: Tokenizer;
  readonly settings: GenerationSettings;
  readonly compat: ApiCompat;
  /** Prefix caching on: responses carry usage.prompt_tokens_details.cached_tokens. */
  readonly cachingOn: boolean;
  /** NIM_PER_REQ_METRICS_ENABLE: chat and completion responses carry NIM's `stats` object. */
  readonly perRequestStats?: boolean;
  /** Scripted replies (NIMSIM_RULES_FILE, PATCH /admin/config `rules`); absent = none. */
  readonly rules?: RuleStore | undefined;
  /** Responses kept for `previous_response_id` (NIMSIM_RESPONSES_STORE_SIZE); absent = none. */
  readonly responses?: ResponsesStore | undefined;
  /**
   * The served model is an embedding model (catalog `embedding`): it answers /v1/embeddings and no
   * generation route (docs/embeddings.md). Absent = a generative model.
   */
  readonly embedding?: EmbeddingSpec | undefined;
  /** LoRA adapters a request's `model` may name (NIM_PEFT_SOURCE set; docs/lora.md); absent = LoRA off. */
  readonly loras?: LoraRegistry | undefined;
}

/** The serving context of a runtime: the one place the settings are picked out of the config. */
export function createServingContext(
  config: Config,
  runtime: Pick<Runtime, 'engine' | 'tokenizer' | 'servedModels' | 'maxModelLen'>,
  rules: RuleStore | undefined,
  loras?: LoraRegistry,
): ServingContext {
  return {
    loras,
    engine: runtime.engine,
    tokenizer: runtime.tokenizer,
    compat: config.apiCompat as ApiCompat,
    cachingOn: config.enableKvCacheReuse,
    perRequestStats: config.perReqMetricsEnable,
    rules,
    responses: createResponsesStore(config.responsesStoreSize),
    embedding: findModel(config.modelName)?.embedding,
    settings: {
      servedModels: runtime.servedModels,
      maxModelLen: runtime.maxModelLen,
      seed: config.seed,
      content: config.content,
      meanOutputTokens: config.meanOutputTokens,
      meanReasoningTokens: config.meanReasoningTokens,
      reasoning: findModel(config.modelName)?.reasoning,
      parallelToolCalls: findModel(config.modelName)?.parallelToolCalls,
      maxTokensPerRequest: config.maxTokensPerRequest,
      maxLogprobsPerRequest: config.maxLogprobsPerRequest,
      maxWaiting: config.maxWaiting,
    },
  };
}
