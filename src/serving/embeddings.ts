/**
 * POST /v1/embeddings, served for an embedding model as a NeMo Retriever text embedding NIM serves
 * it (docs/embeddings.md; API reference
 * https://docs.nvidia.com/nim/nemo-retriever/text-embedding/latest/reference.html):
 *
 * - `input` a string or a list of them, each embedded on its own, in order;
 * - `input_type` `query` or `passage`, required by the asymmetric models ("'input_type' parameter
 *   is required for asymmetric models", 400), or given as a `-query` / `-passage` suffix of the
 *   model name (the reference's way for OpenAI clients);
 * - `truncate` `NONE` (the default: an input over the model's maximum is a 400 "Input length N
 *   exceeds maximum allowed token size M"), `END` (keep its first tokens) or `START` (its last);
 * - `dimensions`: a Matryoshka length the model offers, else 400;
 * - `encoding_format` `float` or `base64` (float32 little-endian, what OpenAI's clients decode).
 *
 * Timing is the engine's: each input is one sequence that is prefilled and generates nothing, so a
 * batch takes what its prefill takes on the simulated GPU. An embedding model keeps no cache
 * between requests, so the prefix cache is not looked up.
 */
import type { EmbeddingSpec } from '../catalog/model-card.js';
import { embedText, float32Base64, unitPrefix } from '../content/embedding-vector.js';
import type { EmbeddingsRequest } from '../protocol/embeddings.js';
import { hashSeed } from '../util/random.js';
import { checkModel } from './base.js';
import type { ServingContext } from './context.js';
import { ApiError } from './errors.js';
import { checkBounds } from './request-bounds.js';
import { runToCompletion } from './run-generation.js';
import type { ServingRequest } from './served.js';
import { newRequestId, type PlannedChoice, type PlannedGeneration } from './to-engine.js';

export interface EmbeddingsBody {
  object: 'list';
  data: { index: number; embedding: number[] | string; object: 'embedding' }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

type InputType = 'query' | 'passage';
const SUFFIXES: readonly InputType[] = ['query', 'passage'];

export async function serveEmbeddings(
  ctx: ServingContext,
  spec: EmbeddingSpec,
  req: EmbeddingsRequest,
  request: ServingRequest,
): Promise<EmbeddingsBody> {
  const { model, suffixType } = splitModelSuffix(req.model, ctx.settings.servedModels);
  // Embedding NIMs serve no LoRA adapters: only the base model's names.
  checkModel(model, { settings: ctx.settings });
  const inputType = req.input_type ?? suffixType;
  if (inputType === undefined && spec.asymmetric) {
    throw new ApiError(400, "'input_type' parameter is required for asymmetric models", 'input_type');
  }
  const dimensions = resolveDimensions(spec, req.dimensions ?? undefined);
  const inputs = typeof req.input === 'string' ? [req.input] : req.input;
  const truncate = req.truncate ?? 'NONE';
  const prompts: number[][] = [];
  // What the model reads of each input: all of it, or what truncation kept.
  const texts: string[] = [];
  for (const [index, text] of inputs.entries()) {
    const param = typeof req.input === 'string' ? 'input' : `input.${index}`;
    const kept = await tokenizeInput(ctx, text, param, truncate);
    prompts.push(kept.ids);
    texts.push(kept.text ?? text);
  }

  checkBounds(ctx, {
    n: 1,
    prompts: prompts.map((p) => ({ promptTokens: p.length, maxTokens: 0 })),
    ignoreEos: false,
    minTokens: 0,
    logprobsPerToken: 0,
    promptLogprobsPerToken: 0,
    maxTokensField: 'input',
    logprobsField: 'input',
  });
  const gen = generationOf(req, model, prompts);
  const { error } = await runToCompletion(ctx.engine, gen, request.signal);
  if (error) throw error;
  const promptTokens = prompts.reduce((sum, p) => sum + p.length, 0);
  request.noteUsage({
    prompt_tokens: promptTokens,
    completion_tokens: 0,
    session: req.user ?? undefined,
    replica: gen.replica,
  });

  const space = {
    dimensions: spec.dimensions,
    denseBand: minDimensions(spec),
    seed: hashSeed(ctx.settings.seed, model),
  };
  const base64 = req.encoding_format === 'base64';
  return {
    object: 'list',
    data: texts.map((text, index) => {
      const vector = unitPrefix(embedText(text, inputType, space), dimensions);
      return { index, embedding: base64 ? float32Base64(vector) : vector, object: 'embedding' };
    }),
    model: req.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}

/** `<served name>-query` / `-passage`: the input type in the model name (NIM's API reference). */
function splitModelSuffix(
  name: string,
  served: readonly string[],
): { model: string; suffixType: InputType | undefined } {
  if (served.includes(name)) return { model: name, suffixType: undefined };
  for (const type of SUFFIXES) {
    const base = name.slice(0, -(type.length + 1));
    if (name.endsWith(`-${type}`) && served.includes(base)) return { model: base, suffixType: type };
  }
  return { model: name, suffixType: undefined };
}

function minDimensions(spec: EmbeddingSpec): number {
  return Math.min(spec.dimensions, ...(spec.dynamicDimensions ?? []));
}

function resolveDimensions(spec: EmbeddingSpec, asked: number | undefined): number {
  if (asked === undefined || asked === spec.dimensions) return spec.dimensions;
  const allowed = spec.dynamicDimensions ?? [spec.dimensions];
  if (!allowed.includes(asked)) {
    throw new ApiError(
      400,
      spec.dynamicDimensions
        ? `dimensions ${asked} is not supported by this model; supported: ${allowed.join(', ')}.`
        : `This model does not support dynamic embedding sizes; dimensions must be ${spec.dimensions}.`,
      'dimensions',
    );
  }
  return asked;
}

/**
 * An input's tokens (the tokenizer's BOS first), cut to the model's maximum as `truncate` says,
 * and the text of what was kept when it was cut. A body is bounded (NIMSIM_MAX_BODY_BYTES), so an
 * input is counted whole: the error names its length.
 */
async function tokenizeInput(
  ctx: ServingContext,
  text: string,
  param: string,
  truncate: 'NONE' | 'START' | 'END',
): Promise<{ ids: number[]; text?: string }> {
  const t = ctx.tokenizer;
  const max = ctx.settings.maxModelLen;
  const head = t.bosTokenId !== undefined ? [t.bosTokenId] : [];
  const ids: number[] = [];
  // END needs only the first tokens: counting stops there.
  await t.encodeIntoAsync(text, ids, truncate === 'END' ? max : Infinity);
  const length = head.length + ids.length;
  if (length <= max) return { ids: head.concat(ids) };
  if (truncate === 'NONE') {
    throw new ApiError(400, `Input length ${length} exceeds maximum allowed token size ${max}`, param);
  }
  const keep = max - head.length;
  const kept = truncate === 'END' ? ids.slice(0, keep) : ids.slice(ids.length - keep);
  return { ids: head.concat(kept), text: t.decode(kept) };
}

/** One engine sequence per input: a prefill that generates nothing. */
function generationOf(
  req: EmbeddingsRequest,
  model: string,
  prompts: readonly number[][],
): PlannedGeneration {
  const id = newRequestId('embd');
  const choices: PlannedChoice[] = prompts.map((promptTokenIds, index) => ({
    index,
    seed: 0,
    plan: { tokenIds: [], pieces: [], text: '', finishReason: 'stop' },
    request: {
      id: prompts.length === 1 ? id : `${id}-${index}`,
      promptTokenIds,
      outputTokenIds: [],
      finishReason: 'stop',
      skipPrefixCacheLookup: true,
      sessionKey: req.user ?? undefined,
      modelName: model,
    },
  }));
  return { id, model, promptTokenIds: prompts[0] ?? [], promptTokens: 0, choices };
}
