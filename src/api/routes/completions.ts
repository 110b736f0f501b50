/** POST /v1/completions: the legacy text-completion route, single or batched prompts. */
import type { Context, Hono } from 'hono';
import { encodeCompletionPrompt } from '../../content/chat-template.js';
import { tokenLogprob } from '../../content/logprobs.js';
import { hashSeed } from '../../content/random.js';
import { TokenLimitError } from '../../content/tokenizer.js';
import { CompletionRequestSchema, type CompletionRequest } from '../../protocol/completions.js';
import { readJson } from '../body.js';
import { choiceText, stopReasonOf } from '../chat-format.js';
import { ApiError } from '../errors.js';
import { resolveCompletionReply } from '../reply-spec.js';
import { runGeneration, runToCompletion, type FinishedEvent } from '../run-generation.js';
import { clientSignalOf } from '../client-signal.js';
import { noteUsage } from '../request-log.js';
import type { ServingContext } from '../serving.js';
import { streamEnding } from '../stream-ending.js';
import { createSseResponse, type SseWriter } from '../sse.js';
import {
  checkModel,
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

function promptsOf(ctx: ServingContext, req: CompletionRequest): number[][] {
  const p = req.prompt;
  const limit = ctx.settings.maxModelLen;
  // vLLM tokenizes text prompts with special tokens: Llama 3 gets <|begin_of_text|> first.
  // Tokenizing stops at max_model_len: a longer prompt is refused without being counted to its end.
  const encode = (text: string) => {
    try {
      return encodeCompletionPrompt(ctx.tokenizer, text, limit);
    } catch (err) {
      if (err instanceof TokenLimitError) throw promptTooLong(limit, err.counted, 'prompt');
      throw err;
    }
  };
  if (typeof p === 'string') return [encode(p)];
  if (p.every((x) => typeof x === 'string')) return (p as string[]).map(encode);
  if (p.every((x) => typeof x === 'number')) return [p as number[]];
  return p as number[][];
}

function planCompletion(
  ctx: ServingContext,
  req: CompletionRequest,
  header: (name: string) => string | undefined,
): PlannedGeneration {
  // vLLM turns echo + logprobs into prompt_logprobs, and a request that needs prompt logprobs
  // skips the prefix-cache lookup (every prompt token's logits must be computed).
  const promptLogprobsWanted = req.echo === true && req.logprobs != null;
  checkModel(req.model, ctx.settings);
  const reply = resolveCompletionReply(req, ctx.rules, header);
  const id = newRequestId('cmpl');
  const prompts = promptsOf(ctx, req);
  const choices: PlannedChoice[] = [];
  let promptTokens = 0;
  for (const promptTokenIds of prompts) {
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
    const gen = planGeneration(req, {
      id,
      promptTokenIds,
      maxTokens,
      tokenizer: ctx.tokenizer,
      settings: ctx.settings,
      echoTokenIds: promptTokenIds,
      reply: reply.spec,
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
    promptTokenIds: prompts[0]!,
    promptTokens,
    choices,
    latencyMs: reply.latencyMs,
  };
}

/** `echo` with `max_tokens: 0`: the prompt comes back and nothing generated is shown (vLLM `echo_without_generation`). */
const echoOnly = (req: CompletionRequest) => req.echo === true && req.max_tokens === 0;

interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

/**
 * The prompt's logprobs for `echo` (vLLM sets prompt_logprobs = logprobs when echoing): the first
 * token has none (nothing precedes it), so its logprob and top entry are null. Offsets are the
 * running length of the token strings, BOS included, as vLLM's _create_completion_logprobs counts
 * them. Deterministic per prompt: they depend on the tokens, not on the request's seed.
 */
function promptLogprobs(
  ctx: ServingContext,
  promptTokenIds: readonly number[],
  topN: number,
): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = 0;
  promptTokenIds.forEach((id, pos) => {
    const token = ctx.tokenizer.decode([id]);
    out.tokens.push(token);
    out.text_offset.push(offset);
    offset += token.length;
    if (pos === 0) {
      out.token_logprobs.push(null);
      out.top_logprobs.push(null);
      return;
    }
    const lp = tokenLogprob(
      hashSeed('prompt-logprobs', promptTokenIds[pos - 1]!),
      pos,
      id,
      Math.max(topN, 1),
    );
    out.token_logprobs.push(lp.logprob);
    out.top_logprobs.push(
      Object.fromEntries(lp.top.slice(0, topN).map((t) => [ctx.tokenizer.decode([t.id]), t.logprob])),
    );
  });
  return out;
}

/** The text length vLLM's offsets reach after `logprobs` (its last offset plus its last token). */
const offsetAfter = (logprobs: CompletionLogprobs) =>
  logprobs.tokens.length === 0 ? 0 : logprobs.text_offset.at(-1)! + logprobs.tokens.at(-1)!.length;

/** The choice's logprobs: the prompt's when echoing, then the generated tokens' (none when echo-only). */
function choiceLogprobs(
  ctx: ServingContext,
  req: CompletionRequest,
  choice: PlannedChoice,
  n: number,
  topN: number,
): CompletionLogprobs {
  if (!req.echo) return completionLogprobs(ctx, choice, n, topN);
  const prompt = promptLogprobs(ctx, choice.request.promptTokenIds, topN);
  if (echoOnly(req)) return prompt;
  return afterPrompt(prompt, completionLogprobs(ctx, choice, n, topN));
}

/** The prompt's logprobs followed by the generated ones, whose offsets move past the prompt's text. */
function afterPrompt(prompt: CompletionLogprobs, generated: CompletionLogprobs): CompletionLogprobs {
  const shift = offsetAfter(prompt);
  return {
    tokens: [...prompt.tokens, ...generated.tokens],
    token_logprobs: [...prompt.token_logprobs, ...generated.token_logprobs],
    top_logprobs: [...prompt.top_logprobs, ...generated.top_logprobs],
    text_offset: [...prompt.text_offset, ...generated.text_offset.map((o) => o + shift)],
  };
}

/** Completions logprobs: tokens, token_logprobs, top_logprobs (token → logprob) and text_offset. */
function completionLogprobs(
  ctx: ServingContext,
  choice: PlannedChoice,
  n: number,
  topN: number,
  startOffset = 0,
): CompletionLogprobs {
  const tokens: string[] = [];
  const tokenLogprobs: number[] = [];
  const top: Record<string, number>[] = [];
  const offsets: number[] = [];
  let offset = startOffset;
  choice.plan.tokenIds.slice(0, n).forEach((id, pos) => {
    const lp = tokenLogprob(choice.seed, pos, id, Math.max(topN, 1));
    const text = ctx.tokenizer.decode([id]);
    tokens.push(text);
    tokenLogprobs.push(lp.logprob);
    top.push(Object.fromEntries(lp.top.slice(0, topN).map((t) => [ctx.tokenizer.decode([t.id]), t.logprob])));
    offsets.push(offset);
    offset += (choice.plan.pieces[pos] ?? '').length;
  });
  return { tokens, token_logprobs: tokenLogprobs, top_logprobs: top, text_offset: offsets };
}

export function registerCompletionsRoute(app: Hono, ctx: ServingContext): void {
  app.post('/v1/completions', async (c) => {
    const req = await readJson(c, CompletionRequestSchema);
    const gen = planCompletion(ctx, req, (name) => c.req.header(name));
    if (gen.latencyMs) await new Promise((resolve) => setTimeout(resolve, gen.latencyMs));
    const created = Math.floor(Date.now() / 1000);
    const topN = req.logprobs ?? -1;
    const echoText = (choice: PlannedChoice) =>
      req.echo
        ? ctx.tokenizer.decode(choice.request.promptTokenIds.filter((t) => t !== ctx.tokenizer.bosTokenId))
        : '';
    if (req.stream) return streamCompletion(ctx, req, gen, created, topN, echoText, c);

    const { finished, error } = await runToCompletion(ctx.engine, gen, clientSignalOf(c));
    if (error) throw error;
    const usage = usageOf(gen.promptTokens, finished, ctx.cachingOn);
    noteUsage(c, { ...usage, session: gen.choices[0]?.request.sessionKey });
    return c.json({
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
          logprobs: topN >= 0 ? choiceLogprobs(ctx, req, choice, n, topN) : null,
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
    });
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
): Response {
  const clientSignal = clientSignalOf(c);
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
        const prompt = promptLogprobs(ctx, choice.request.promptTokenIds, topN);
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
        const lp = topN >= 0 ? tokenLogprob(gen.choices[i]!.seed, pos, id, Math.max(topN, 1)) : undefined;
        send(i, text, {
          logprobs: lp
            ? {
                tokens: [ctx.tokenizer.decode([id])],
                token_logprobs: [lp.logprob],
                top_logprobs: [
                  Object.fromEntries(
                    lp.top.slice(0, topN).map((t) => [ctx.tokenizer.decode([t.id]), t.logprob]),
                  ),
                ],
                text_offset: [0],
              }
            : null,
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
