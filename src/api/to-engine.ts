/**
 * Wire request → engine requests (the role of vLLM's `to_sampling_params`): checks the model and
 * the context length, resolves max_tokens, plans each choice's output with the content layer and
 * builds one EngineRequest per choice.
 */
import { randomFillSync } from 'node:crypto';
import { hashSeed } from '../content/random.js';
import { JsonSchemaError } from '../content/json-schema.js';
import { planReply, type ReplyPlan, type ReplySpec } from '../content/reply.js';
import type { Tokenizer } from '../content/tokenizer.js';
import type { EngineRequest } from '../engine/types.js';
import type { ChatCompletionRequest } from '../protocol/chat.js';
import type { CompletionRequest } from '../protocol/completions.js';
import { ApiError } from './errors.js';

export interface GenerationSettings {
  readonly servedModels: readonly string[];
  readonly maxModelLen: number;
  readonly seed: number;
  readonly content: 'generate' | 'echo';
  readonly meanOutputTokens: number;
}

export interface PlannedChoice {
  readonly index: number;
  /** Seed of this choice's content and logprobs. */
  readonly seed: number;
  /** Which tokens; for a tool call also where its name and arguments lie. */
  readonly plan: ReplyPlan;
  readonly request: EngineRequest;
}

export interface PlannedGeneration {
  readonly id: string;
  readonly model: string;
  readonly promptTokenIds: readonly number[];
  /** Prompt tokens billed once per distinct prompt (several only for batched completions). */
  readonly promptTokens: number;
  readonly choices: readonly PlannedChoice[];
  /** Wall-clock delay a scripted rule adds before the request is submitted. */
  readonly latencyMs?: number | undefined;
}

type WireRequest = ChatCompletionRequest | CompletionRequest;

export function checkModel(model: string, settings: GenerationSettings): void {
  if (!settings.servedModels.includes(model)) {
    throw new ApiError(404, `The model \`${model}\` does not exist.`, 'model');
  }
}

/**
 * Resolves max_tokens against the context (nim-api.md §4a): absent means "the rest of the
 * context"; prompt + max_tokens beyond max_model_len is a 400 with vLLM's wording.
 */
export function resolveMaxTokens(
  promptTokens: number,
  requested: number | null | undefined,
  maxModelLen: number,
  noun: 'messages' | 'prompt',
): number {
  if (promptTokens >= maxModelLen) {
    throw new ApiError(
      400,
      `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens} tokens in the ${noun}, Please reduce the length of the ${noun}.`,
      noun,
    );
  }
  if (requested == null) return maxModelLen - promptTokens;
  if (promptTokens + requested > maxModelLen) {
    throw new ApiError(
      400,
      `This model's maximum context length is ${maxModelLen} tokens. However, you requested ${promptTokens + requested} tokens (${promptTokens} in the ${noun}, ${requested} in the completion). Please reduce the length of the ${noun} or completion.`,
      noun,
    );
  }
  return requested;
}

/**
 * A prompt whose tokenizing stopped at max_model_len (content/tokenizer.ts TokenLimitError): vLLM's
 * context-length message, the count being where counting stopped (a lower bound).
 */
export function promptTooLong(maxModelLen: number, counted: number, noun: 'messages' | 'prompt'): ApiError {
  return new ApiError(
    400,
    `This model's maximum context length is ${maxModelLen} tokens. However, you requested at least ${counted} tokens in the ${noun}, Please reduce the length of the ${noun}.`,
    noun,
  );
}

/** Random bytes drawn a pool at a time: one draw per request was a visible cost. */
const ID_BYTES = 16;
const idPool = Buffer.alloc(ID_BYTES * 256);
let idPoolOffset = idPool.length;

/** `<prefix>-<32 random hex digits>`, shaped like vLLM's ids (`random_uuid()`, i.e. uuid4().hex). */
export function newRequestId(prefix: 'chatcmpl' | 'cmpl'): string {
  if (idPoolOffset === idPool.length) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  const hex = idPool.toString('hex', idPoolOffset, idPoolOffset + ID_BYTES);
  idPoolOffset += ID_BYTES;
  return `${prefix}-${hex}`;
}

/** Deterministic per request: the request's seed (or its prompt), the server seed and the choice. */
function choiceSeed(
  req: WireRequest,
  promptTokenIds: readonly number[],
  serverSeed: number,
  index: number,
): number {
  const base = req.seed ?? hashSeed(promptTokenIds);
  // Greedy decoding gives every choice the same text, as a real model would.
  return hashSeed(serverSeed, base, req.temperature === 0 ? 0 : index);
}

export function planGeneration(
  req: WireRequest,
  opts: {
    readonly id: string;
    readonly promptTokenIds: readonly number[];
    readonly maxTokens: number;
    readonly tokenizer: Tokenizer;
    readonly settings: GenerationSettings;
    /** The last user message's tokens, replayed in echo mode. */
    readonly echoTokenIds: readonly number[];
    /** Rules, tools and guided decoding (api/reply-spec.ts); absent = generated text. */
    readonly reply?: ReplySpec | undefined;
    readonly latencyMs?: number | undefined;
  },
): PlannedGeneration {
  const n = req.n ?? 1;
  const nvext = req.nvext ?? undefined;
  const ignoreEos = req.ignore_eos ?? nvext?.ignore_eos ?? false;
  const stop = req.stop == null ? [] : typeof req.stop === 'string' ? [req.stop] : req.stop;
  const choices: PlannedChoice[] = [];
  for (let index = 0; index < n; index++) {
    const seed = choiceSeed(req, opts.promptTokenIds, opts.settings.seed, index);
    const plan = planChoice(opts.reply ?? {}, {
      tokenizer: opts.tokenizer,
      seed,
      maxTokens: opts.maxTokens,
      minTokens: req.min_tokens ?? 0,
      ignoreEos,
      stop,
      stopTokenIds: req.stop_token_ids ?? [],
      includeStopStrInOutput: req.include_stop_str_in_output ?? false,
      mode: opts.settings.content,
      echoTokenIds: opts.echoTokenIds,
      meanOutputTokens: opts.settings.meanOutputTokens,
    });
    choices.push({
      index,
      seed,
      plan,
      request: {
        id: n === 1 ? opts.id : `${opts.id}-${index}`,
        promptTokenIds: opts.promptTokenIds,
        outputTokenIds: plan.tokenIds,
        finishReason: plan.finishReason,
        cacheSalt: req.cache_salt ?? undefined,
        sessionKey: req.prompt_cache_key ?? req.user ?? undefined,
        modelName: req.model,
      },
    });
  }
  return {
    id: opts.id,
    model: req.model,
    promptTokenIds: opts.promptTokenIds,
    promptTokens: opts.promptTokenIds.length,
    choices,
    latencyMs: opts.latencyMs,
  };
}

/** A schema that some seed cannot satisfy (rare: e.g. too few unique items) is the client's 400. */
function planChoice(spec: ReplySpec, base: Parameters<typeof planReply>[1]): ReplyPlan {
  try {
    return planReply(spec, base);
  } catch (err) {
    if (err instanceof JsonSchemaError) throw new ApiError(400, err.message, err.field ?? 'response_format');
    throw err;
  }
}
