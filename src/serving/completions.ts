/**
 * POST /v1/completions, served (vLLM's serving_completion.py): the legacy text-completion API,
 * single or batched prompts, answered as one text_completion body or as a stream of frames.
 */
import type { CompletionRequest } from '../protocol/completions.js';
import { sleepUnlessGone } from '../util/sleep.js';
import { checkModel, encodePrompt } from './base.js';
import { choiceText, stopReasonOf } from './chat-format.js';
import {
  afterPrompt,
  generatedLogprobs,
  promptLogprobs,
  streamedChoiceLogprobs,
  type CompletionLogprobs,
} from './completion-logprobs.js';
import { fillTemplate, jsonTemplate } from './chunk-template.js';
import type { ServingContext } from './context.js';
import { ApiError } from './errors.js';
import { nimStatsOf } from './nim-stats.js';
import { Pacer } from './pacer.js';
import type { CompletionBody, CompletionChunkFrame, CompletionChunkHeader, ErrorFrame } from './protocol.js';
import { resolveCompletionReply } from './reply-spec.js';
import { checkBounds, checkStreamedEcho } from './request-bounds.js';
import { runGeneration, runToCompletion, type FinishedEvent } from './run-generation.js';
import type { ChunkSink, FrameSource, Served, ServingRequest } from './served.js';
import { streamEnding } from './stream-ending.js';
import {
  ignoreEosOf,
  newRequestId,
  planGeneration,
  resolveMaxTokens,
  type PlannedChoice,
  type PlannedGeneration,
} from './to-engine.js';
import { usageOf } from './usage.js';

export type ServedCompletion = Served<CompletionBody, CompletionChunkFrame | ErrorFrame>;

/** OpenAI's and vLLM's default for completions (chat defaults to the rest of the context). */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

async function promptsOf(ctx: ServingContext, req: CompletionRequest): Promise<number[][]> {
  const p = req.prompt;
  if (typeof p === 'string') return [await encodePrompt(ctx, p)];
  if (p.every((x) => typeof x === 'string')) {
    // One after another: each yields between its slices, none holds the loop.
    const prompts: number[][] = [];
    for (const text of p as string[]) prompts.push(await encodePrompt(ctx, text));
    return prompts;
  }
  if (p.every((x) => typeof x === 'number')) return [p as number[]];
  return p as number[][];
}

export async function planCompletion(
  ctx: ServingContext,
  req: CompletionRequest,
  header: (name: string) => string | undefined,
  signal: ServingRequest['signal'],
): Promise<PlannedGeneration> {
  // vLLM turns echo + logprobs into prompt_logprobs, and a request that needs prompt logprobs
  // skips the prefix-cache lookup (every prompt token's logits must be computed).
  const promptLogprobsWanted = req.echo === true && req.logprobs != null;
  const lora = checkModel(req.model, ctx);
  const reply = resolveCompletionReply(req, ctx.rules, header);
  const id = newRequestId('cmpl');
  // Every prompt is checked and its max_tokens resolved before anything is planned.
  const prompts = (await promptsOf(ctx, req)).map((promptTokenIds) => {
    for (const t of promptTokenIds) {
      if (t >= ctx.tokenizer.vocabSize) {
        throw new ApiError(
          400,
          `Token id ${t} is out of vocabulary (size ${ctx.tokenizer.vocabSize}).`,
          'prompt',
        );
      }
    }
    const maxTokens = resolveMaxTokens(
      promptTokenIds.length,
      // Echo without generation still runs one token, as vLLM does (and counts it in usage).
      echoOnly(req) ? 1 : (req.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS),
      ctx.settings.maxModelLen,
      'prompt',
    );
    return { promptTokenIds, promptTokens: promptTokenIds.length, maxTokens };
  });
  const demand = {
    n: req.n ?? 1,
    prompts,
    ignoreEos: ignoreEosOf(req),
    minTokens: req.min_tokens ?? 0,
    // Echo-only runs one token that the answer does not show.
    logprobsPerToken: req.logprobs == null || echoOnly(req) ? 0 : 1 + req.logprobs,
    promptLogprobsPerToken: promptLogprobsWanted ? 1 + req.logprobs! : 0,
    maxTokensField: 'max_tokens',
    logprobsField: 'logprobs',
  };
  if (req.stream === true) checkStreamedEcho(demand);
  const budget = checkBounds(ctx, demand);
  const pacer = new Pacer(signal);
  const choices: PlannedChoice[] = [];
  let promptTokens = 0;
  for (const { promptTokenIds, maxTokens } of prompts) {
    const gen = await planGeneration(req, {
      id,
      promptTokenIds,
      maxTokens,
      tokenizer: ctx.tokenizer,
      settings: ctx.settings,
      echoTokenIds: promptTokenIds,
      reply: reply.spec,
      budget,
      pacer,
      lora,
    });
    const offset = choices.length;
    for (const c of gen.choices) {
      const index = offset + c.index;
      choices.push({
        ...c,
        index,
        request: { ...c.request, id: `${id}-${index}`, skipPrefixCacheLookup: promptLogprobsWanted },
      });
    }
    promptTokens += promptTokenIds.length;
  }
  return {
    id,
    model: req.model,
    promptTokenIds: prompts[0]!.promptTokenIds,
    promptTokens,
    choices,
    latencyMs: reply.latencyMs,
  };
}

/** `echo` with `max_tokens: 0`: the prompt comes back and nothing generated is shown (vLLM `echo_without_generation`). */
const echoOnly = (req: CompletionRequest) => req.echo === true && req.max_tokens === 0;

export async function serveCompletion(
  ctx: ServingContext,
  req: CompletionRequest,
  request: ServingRequest,
): Promise<ServedCompletion> {
  const gen = await planCompletion(ctx, req, request.header, request.signal);
  if (gen.latencyMs) await sleepUnlessGone(gen.latencyMs, request.signal);
  const created = Math.floor(Date.now() / 1000);
  const topN = req.logprobs ?? -1;
  const echoText = (choice: PlannedChoice) =>
    req.echo
      ? ctx.tokenizer.decode(choice.request.promptTokenIds.filter((t) => t !== ctx.tokenizer.bosTokenId))
      : '';
  if (req.stream) {
    // Every choice is submitted (and routed) before streamCompletion returns.
    const frames = streamCompletion(ctx, req, gen, created, topN, echoText, request);
    return { stream: true, frames, replica: gen.replica };
  }

  const { finished, error } = await runToCompletion(ctx.engine, gen, request.signal);
  if (error) throw error;
  const usage = usageOf(gen.promptTokens, finished, ctx.cachingOn);
  request.noteUsage({ ...usage, session: gen.choices[0]?.request.sessionKey, replica: gen.replica });
  const body: CompletionBody = {
    id: gen.id,
    object: 'text_completion',
    created,
    model: gen.model,
    choices: gen.choices.map((choice) => {
      const done = finished[choice.index];
      const n = done?.usage.completionTokens ?? 0;
      return {
        index: choice.index,
        text: echoText(choice) + (echoOnly(req) ? '' : choiceText(gen, choice.index, n)),
        // Made per position as the body is written (json-body.ts), never all at once.
        logprobs:
          topN >= 0
            ? streamedChoiceLogprobs(
                ctx.tokenizer,
                {
                  promptIds: req.echo ? choice.request.promptTokenIds : [],
                  outputIds: choice.plan.tokenIds,
                  pieces: choice.plan.pieces,
                  generated: echoOnly(req) ? 0 : n,
                  seed: choice.seed,
                },
                topN,
              )
            : null,
        finish_reason: done?.reason ?? 'abort',
        stop_reason: stopReasonOf(gen, choice.index, done),
        prompt_logprobs: null,
      };
    }),
    usage,
    service_tier: null,
    system_fingerprint: null,
    kv_transfer_params: null,
    ...(ctx.perRequestStats ? { stats: nimStatsOf(gen.promptTokens, finished, gen.replica) } : {}),
  };
  return { stream: false, body, inParts: topN >= 0, replica: gen.replica };
}

/** Submits every choice now (a refusal is still an HTTP status); frames go to the sink once it exists. */
function streamCompletion(
  ctx: ServingContext,
  req: CompletionRequest,
  gen: PlannedGeneration,
  created: number,
  topN: number,
  echoText: (choice: PlannedChoice) => string,
  request: ServingRequest,
): FrameSource<CompletionChunkFrame | ErrorFrame> {
  const header: CompletionChunkHeader = { id: gen.id, object: 'text_completion', created, model: gen.model };
  const includeUsage = req.stream_options?.include_usage ?? false;
  const usageNull = includeUsage ? { usage: null } : {};
  const finished: (FinishedEvent | undefined)[] = [];
  const echoed = new Set<number>();
  let sink: ChunkSink<CompletionChunkFrame | ErrorFrame> | undefined;
  const send = (
    index: number,
    text: string,
    extra: Partial<Pick<CompletionChunkFrame['choices'][number], 'finish_reason' | 'stop_reason'>> & {
      logprobs?: CompletionLogprobs | null;
    },
  ) => {
    const choice = gen.choices[index]!;
    let prefix = '';
    let logprobs = extra.logprobs ?? null;
    if (req.echo && !echoed.has(index)) {
      // The first chunk carries the echoed prompt, and its logprobs ahead of the token's.
      echoed.add(index);
      prefix = echoText(choice);
      if (topN >= 0) {
        const prompt = promptLogprobs(ctx.tokenizer, choice.request.promptTokenIds, topN);
        logprobs = logprobs ? afterPrompt(prompt, logprobs) : prompt;
      }
    }
    sink?.send(chunkOf(index, prefix + text, extra, logprobs));
  };
  const chunkOf = (
    index: number,
    text: string,
    extra: Parameters<typeof send>[2],
    logprobs: CompletionLogprobs | null,
  ): CompletionChunkFrame => ({
    ...header,
    choices: [{ index, text, finish_reason: null, stop_reason: null, ...extra, logprobs }],
    ...usageNull,
  });
  // Without logprobs a choice's token chunks differ only in their text: each is its template
  // filled in (chunk-template.ts), once the echoed prompt (first chunk) is out.
  const templates =
    topN < 0 && !echoOnly(req)
      ? gen.choices.map((choice) =>
          jsonTemplate((text) => chunkOf(choice.index, text, { logprobs: null }, null)),
        )
      : undefined;
  const controller = runGeneration(
    ctx.engine,
    gen,
    {
      onToken(i, pos, id) {
        // Echo-only: the generated token is not shown; the prompt goes out with the first chunk.
        if (echoOnly(req)) return send(i, '', {});
        const text = gen.choices[i]!.plan.pieces[pos] ?? '';
        if (text === '' && topN < 0) return;
        const template = req.echo && !echoed.has(i) ? undefined : templates?.[i];
        if (template !== undefined) {
          sink?.sendJson(fillTemplate(template, text));
          return;
        }
        send(i, text, {
          logprobs: topN >= 0 ? generatedLogprobs(ctx.tokenizer, gen.choices[i]!.seed, pos, id, topN) : null,
        });
      },
      onFinished(i, ev) {
        finished[i] = ev;
        if (ev.reason !== 'abort')
          send(i, '', { finish_reason: ev.reason, stop_reason: stopReasonOf(gen, i, ev) });
      },
      ...streamEnding({
        request,
        ctx,
        gen,
        header,
        finished,
        includeUsage,
        sink: () => sink,
        abort: () => controller.abort(),
      }),
    },
    request.signal,
  );
  return {
    start(writer) {
      sink = writer;
    },
    abort: () => controller.abort(),
  };
}
