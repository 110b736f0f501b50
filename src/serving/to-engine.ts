/**
 * Wire request → engine requests (the role of vLLM's `to_sampling_params`): checks the context
 * length, resolves max_tokens, plans each choice's output with the content layer and
 * builds one EngineRequest per choice. Planning runs in slices paced on the event loop
 * (pacer.ts) and is counted against the request's bounds (request-bounds.ts) as it goes.
 */
import { randomFillSync } from 'node:crypto';
import { hashSeed } from '../util/random.js';
import { JsonSchemaError } from '../content/json-schema.js';
import type { ReasoningSwitch } from '../catalog/model-card.js';
import { planReasonedReplySteps, type ReasoningOptions } from '../content/reasoning.js';
import { planReplySteps, type ReplyPlan, type ReplySpec } from '../content/reply.js';
import type { Tokenizer } from '../content/tokenizer.js';
import { MAX_PARALLEL_CALLS } from '../content/tool-calls.js';
import type { EngineRequest } from '../engine/types.js';
import type { LoraAdapter } from '../lora/lora-registry.js';
import type { ChatCompletionRequest } from '../protocol/chat.js';
import type { CompletionRequest } from '../protocol/completions.js';
import { ApiError } from './errors.js';
import type { Pacer } from './pacer.js';
import type { RequestBudget, RequestLimits } from './request-bounds.js';

export interface GenerationSettings extends RequestLimits {
  readonly servedModels: readonly string[];
  readonly maxModelLen: number;
  readonly seed: number;
  readonly content: 'generate' | 'echo';
  readonly meanOutputTokens: number;
  /** Median reasoning length of a reasoning model (NIMSIM_MEAN_REASONING_TOKENS). */
  readonly meanReasoningTokens?: number;
  /** The served model's reasoning switch (catalog); absent = a plain chat model. */
  readonly reasoning?: ReasoningSwitch | undefined;
  /** The served model makes several tool calls per turn (catalog `parallelToolCalls`). */
  readonly parallelToolCalls?: boolean | undefined;
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
  /**
   * The request's `parallel_tool_calls` (default true). When false the reply carries only its
   * first tool call, though the model wrote them all and usage counts them all: vLLM's
   * `maybe_filter_parallel_tool_calls` (https://github.com/vllm-project/vllm/pull/26233).
   */
  readonly parallelToolCalls?: boolean | undefined;
  /**
   * The replica the router sent the request to (several replicas only): set when its first choice
   * is submitted (run-generation.ts); the other choices follow it there.
   */
  replica?: number | undefined;
}

/**
 * What planning reads of a wire request: the sampling and stopping fields chat and completions
 * share (protocol/sampling.ts). The Responses API builds one from its own fields
 * (serving/responses.ts), so every API plans the same way.
 */
export type SamplingRequest = Pick<
  ChatCompletionRequest | CompletionRequest,
  | 'model'
  | 'n'
  | 'stop'
  | 'seed'
  | 'temperature'
  | 'min_tokens'
  | 'stop_token_ids'
  | 'include_stop_str_in_output'
  | 'ignore_eos'
  | 'nvext'
  | 'cache_salt'
  | 'prompt_cache_key'
  | 'user'
>;

type WireRequest = SamplingRequest;

/**
 * Resolves max_tokens against the context (docs/nim-api.md#context-length): absent means "the rest of the
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

/** Random bytes drawn a pool at a time: one draw per request was a visible cost. */
const ID_BYTES = 16;
const idPool = Buffer.alloc(ID_BYTES * 256);
let idPoolOffset = idPool.length;

/**
 * `<prefix>-<32 random hex digits>`, shaped like vLLM's ids (`random_uuid()`, i.e. uuid4().hex);
 * the Responses API's ids and Anthropic's `msg_<32 hex>` (/v1/messages, docs/messages.md#response)
 * join with `_` (`resp_…`, `msg_…`: vllm/entrypoints/openai/responses/protocol.py and utils.py);
 * `embd-` for embeddings, as vLLM's pooling server names them (engine ids only: the body has none).
 */
export function newRequestId(prefix: 'chatcmpl' | 'cmpl' | 'embd'): string;
export function newRequestId(prefix: 'resp' | 'msg' | 'rs' | 'fc', separator: '_'): string;
export function newRequestId(prefix: string, separator = '-'): string {
  if (idPoolOffset === idPool.length) {
    randomFillSync(idPool);
    idPoolOffset = 0;
  }
  const hex = idPool.toString('hex', idPoolOffset, idPoolOffset + ID_BYTES);
  idPoolOffset += ID_BYTES;
  return `${prefix}${separator}${hex}`;
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

/** `ignore_eos`, top-level (NIM 2.x) or in `nvext` (NIM 1.x). */
export function ignoreEosOf(req: WireRequest): boolean {
  return req.ignore_eos ?? req.nvext?.ignore_eos ?? false;
}

export async function planGeneration(
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
    /** Counts the planned tokens against the request's bounds. */
    readonly budget: RequestBudget;
    /** Pauses planning between slices (one pacer for the whole wire request). */
    readonly pacer: Pacer;
    /** The request reasons first (serving/reasoning.ts); absent = it answers straight away. */
    readonly reasoning?: ReasoningOptions | undefined;
    /**
     * The LoRA adapter the request names (checkModel): it runs with it, and its metrics count
     * under the adapter's base model, as vLLM labels every series with the served model name.
     */
    readonly lora?: LoraAdapter | undefined;
    /** The request's `parallel_tool_calls` (or its Responses / Anthropic spelling); default true. */
    readonly parallelToolCalls?: boolean | undefined;
  },
): Promise<PlannedGeneration> {
  const n = req.n ?? 1;
  const ignoreEos = ignoreEosOf(req);
  const stop = req.stop == null ? [] : typeof req.stop === 'string' ? [req.stop] : req.stop;
  const choices: PlannedChoice[] = [];
  // A model that makes parallel calls may write several in one turn (tool-calls.ts).
  const reply: ReplySpec = {
    ...opts.reply,
    maxToolCalls: opts.settings.parallelToolCalls === true ? MAX_PARALLEL_CALLS : 1,
  };
  for (let index = 0; index < n; index++) {
    const seed = choiceSeed(req, opts.promptTokenIds, opts.settings.seed, index);
    const plan = await planChoice(reply, opts.reasoning, opts.budget, opts.pacer, {
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
        modelName: opts.lora?.parent ?? req.model,
        ...(opts.lora && { lora: opts.lora.engine }),
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
    parallelToolCalls: opts.parallelToolCalls ?? true,
  };
}

/**
 * Plans one choice slice by slice, counting its tokens into the budget as they are planned and
 * pausing when the pacer says so. A schema that some seed cannot satisfy (rare: e.g. too few
 * unique items) is the client's 400.
 */
async function planChoice(
  spec: ReplySpec,
  reasoning: ReasoningOptions | undefined,
  budget: RequestBudget,
  pacer: Pacer,
  base: Parameters<typeof planReplySteps>[1],
): Promise<ReplyPlan> {
  const steps =
    reasoning === undefined ? planReplySteps(spec, base) : planReasonedReplySteps(spec, base, reasoning);
  let counted = 0;
  for (;;) {
    const step = nextStep(steps);
    if (step.done === true) {
      budget.add(step.value.tokenIds.length - counted);
      // Many short choices add up too: pause between them as well.
      if (pacer.due()) await pacer.pause();
      return step.value;
    }
    if (step.value > counted) {
      budget.add(step.value - counted);
      counted = step.value;
    }
    if (pacer.due()) await pacer.pause();
  }
}

function nextStep(steps: ReturnType<typeof planReplySteps>) {
  try {
    return steps.next();
  } catch (err) {
    if (err instanceof JsonSchemaError) throw new ApiError(400, err.message, err.field ?? 'response_format');
    throw err;
  }
}
