/**
 * What the inference routes need, bundled once by createApp: the engine, the tokenizer and the
 * settings that shape requests. Routes receive this instead of the whole configuration.
 */
import type { RuleStore } from '../content/rules/rule-store.js';
import type { Tokenizer } from '../content/tokenizer.js';
import type { Engine } from '../engine/engine.js';
import type { ApiCompat } from './errors.js';
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
}
