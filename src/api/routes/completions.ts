/** POST /v1/completions: the legacy text-completion route, single or batched prompts. */
import type { Context, Hono } from 'hono';
import { encodeCompletionPromptAsync } from '../../content/chat-template.js';
import { TokenLimitError } from '../../content/tokenizer.js';
import { CompletionRequestSchema, type CompletionRequest } from '../../protocol/completions.js';
import { readJson } from '../body.js';
import { choiceText, stopReasonOf } from '../chat-format.js';
import {
  afterPrompt,
  generatedLogprobs,
  promptLogprobs,
  streamedChoiceLogprobs,
  type CompletionLogprobs,
} from '../completion-logprobs.js';
import { ApiError } from '../errors.js';
import { streamedJsonResponse } from '../json-body.js';
import { resolveCompletionReply } from '../reply-spec.js';
import { runGeneration, runToCompletion, type FinishedEvent } from '../run-generation.js';
import { clientSignalOf, type ClientSignal } from '../client-signal.js';
import { Pacer } from '../pacer.js';
import { checkBounds, checkStreamedEcho } from '../request-bounds.js';
import { sleepUnlessGone } from '../wall-sleep.js';
import { noteUsage } from '../request-log.js';
import type { ServingContext } from '../serving.js';
import { streamEnding } from '../stream-ending.js';
import { createSseResponse, type SseWriter } from '../sse.js';
import {
  checkModel,
  ignoreEosOf,
  newRequestId,
  planGeneration,
  promptTooLong,
  resolveMaxTokens,
  type PlannedChoice,
  type PlannedGeneration,
} from '../to-engine.js';
import { usageOf } from '../usage.js';
import { nimStatsOf } from '../nim-stats.js';

/** OpenAI's and vLLM's default for completions (chat defaults to the rest of the context). */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

async function promptsOf(ctx: ServingContext, req: CompletionRequest): Promise<number[][]> {
  const p = req.prompt;
  const limit = ctx.settings.maxModelLen;
  // vLLM tokenizes text prompts with special tokens: Llama 3 gets <|begin_of_text|> first.
  // Tokenizing stops at max_model_len: a longer prompt is refused without being counted to its end.
  const encode = async (text: string) => {
    try {
      return await encodeCompletionPromptAsync(ctx.tokenizer, text, limit);
    } catch (err) {
      if (err instanceof TokenLimitError) throw promptTooLong(limit, err.counted, 'prompt');
      throw err;
    }
  };
  if (typeof p === 'string') return [await encode(p)];
  if (p.every((x) => typeof x === 'string')) {
    const prompts: number[][] = [];
    for (const text of p as string[]) prompts.push(await encode(text));
    return prompts;
  }
  if (p.every((x) => typeof x === 'number')) return [p as number[]];
  return p as number[][];
}

async function planCompletion(
  ctx: ServingContext,
  req: CompletionRequest,
  header: (name: string) => string | undefined,
  signal: ClientSignal,
): Promise<PlannedGeneration> {
  // vLLM turns echo + logprobs into prompt_logprobs, and a request that needs prompt logprobs
  // skips the prefix-cache lookup (every prompt token's logits must be computed).
  const promptLogprobsWanted = req.echo === true && req.logprobs != null;
  checkModel(req.model, ctx.settings);
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

export function registerCompletionsRoute(app: Hono, ctx: ServingContext): void {
  app.post('/v1/completions', async (c) => {
    const req = await readJson(c, CompletionRequestSchema);
    const clientSignal = clientSignalOf(c);
    const gen = await planCompletion(ctx, req, (name) => c.req.header(name), clientSignal);
    if (gen.latencyMs) await sleepUnlessGone(gen.latencyMs, clientSignal);
    const created = Math.floor(Date.now() / 1000);
    const topN = req.logprobs ?? -1;
    const echoText = (choice: PlannedChoice) =>
      req.echo
        ? ctx.tokenizer.decode(choice.request.promptTokenIds.filter((t) => t !== ctx.tokenizer.bosTokenId))
        : '';
    if (req.stream) return streamCompletion(ctx, req, gen, created, topN, echoText, c, clientSignal);

    const { finished, error } = await runToCompletion(ctx.engine, gen, clientSignal);
    if (error) throw error;
    const usage = usageOf(gen.promptTokens, finished, ctx.cachingOn);
    noteUsage(c, { ...usage, session: gen.choices[0]?.request.sessionKey });
    const body = {
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
      ...(ctx.perRequestStats ? { stats: nimStatsOf(gen.promptTokens, finished) } : {}),
    };
    return topN >= 0 ? streamedJsonResponse(body) : c.json(body);
  });
}

function streamCompletion(
  ctx: ServingContext,
  req: CompletionRequest,
  gen: PlannedGeneration,
  created: number,
  topN: number,
  echoText: (choice: PlannedChoice) => string,
  c: Context,
  clientSignal: ClientSignal,
): Response {
  const header = { id: gen.id, object: 'text_completion' as const, created, model: gen.model };
  const includeUsage = req.stream_options?.include_usage ?? false;
  const usageNull = includeUsage ? { usage: null } : {};
  const finished: (FinishedEvent | undefined)[] = [];
  const echoed = new Set<number>();
  let sse: SseWriter | undefined;
  const send = (
    index: number,
    text: string,
    extra: { logprobs?: CompletionLogprobs | null } & Record<string, unknown>,
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
    sse?.send({
      ...header,
      choices: [{ index, text: prefix + text, finish_reason: null, stop_reason: null, ...extra, logprobs }],
      ...usageNull,
    });
  };
  const controller = runGeneration(
    ctx.engine,
    gen,
    {
      onToken(i, pos, id) {
        // Echo-only: the generated token is not shown; the prompt goes out with the first chunk.
        if (echoOnly(req)) return send(i, '', {});
        const text = gen.choices[i]!.plan.pieces[pos] ?? '';
        if (text === '' && topN < 0) return;
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
        c,
        ctx,
        gen,
        header,
        finished,
        includeUsage,
        sse: () => sse,
        abort: () => controller.abort(),
      }),
    },
    clientSignal,
  );
  return createSseResponse(
    c,
    (writer) => {
      sse = writer;
    },
    () => controller.abort(),
  );
}
