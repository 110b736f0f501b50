/**
 * The serving layer without HTTP: serveChat / serveCompletion answer a JSON body or a stream of
 * frames pushed into a sink, and the frames are typed against the openai package's types (the
 * `@ts-expect-error` lines below are checked by `tsc`: a wrong field must not compile).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createAdjustableClock } from '../../src/engine/clock.js';
import { createRuntime } from '../../src/runtime.js';
import { serveChat } from '../../src/serving/chat.js';
import { serveCompletion } from '../../src/serving/completions.js';
import { createServingContext } from '../../src/serving/context.js';
import type { ChatChunkFrame, CompletionChunkFrame } from '../../src/serving/protocol.js';
import type { ChunkSink, FrameSource, LoggedUsage, ServingRequest } from '../../src/serving/served.js';

const MODEL = 'meta/llama-3.1-8b-instruct';

function servingContext() {
  const config = loadConfig({}, { timeScale: '0', jitter: '0' });
  const runtime = createRuntime(config, { clock: createAdjustableClock(0), defaultJitter: 0 });
  return createServingContext(config, runtime, undefined);
}

function request(): ServingRequest & { usage: LoggedUsage[] } {
  const usage: LoggedUsage[] = [];
  return {
    usage,
    signal: new AbortController().signal,
    header: () => undefined,
    noteUsage: (u) => usage.push(u),
  };
}

/** Starts a stream into an array and resolves with its frames once the sink is closed. */
function collect<Frame>(frames: FrameSource<Frame>): Promise<Frame[]> {
  return new Promise((resolve) => {
    const out: Frame[] = [];
    let closed = false;
    const sink: ChunkSink<Frame> = {
      send: (frame) => out.push(frame),
      // Pre-serialized frames come back as the objects they stand for.
      sendJson: (json) => out.push(JSON.parse(json) as Frame),
      close: () => {
        closed = true;
        resolve(out);
      },
      get closed() {
        return closed;
      },
    };
    frames.start(sink);
  });
}

describe('serving layer', () => {
  it('answers a chat request with a chat.completion body and notes its usage', async () => {
    const req = request();
    const served = await serveChat(
      servingContext(),
      { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5, ignore_eos: true },
      req,
    );
    if (served.stream) throw new Error('expected a JSON body');
    expect(served.inParts).toBe(false);
    expect(served.body.object).toBe('chat.completion');
    expect(served.body.choices[0]!.finish_reason).toBe('length');
    expect(served.body.usage.completion_tokens).toBe(5);
    expect(req.usage).toEqual([
      expect.objectContaining({ prompt_tokens: served.body.usage.prompt_tokens, completion_tokens: 5 }),
    ]);
  });

  it('streams chat chunks into the sink: role, tokens, finish, usage', async () => {
    const req = request();
    const served = await serveChat(
      servingContext(),
      {
        model: MODEL,
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 4,
        ignore_eos: true,
        stream: true,
        stream_options: { include_usage: true },
      },
      req,
    );
    if (!served.stream) throw new Error('expected a stream');
    const frames = (await collect(served.frames)) as ChatChunkFrame[];
    expect(frames[0]!.choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    const finish = frames.find((f) => f.choices[0]?.finish_reason != null);
    expect(finish?.choices[0]?.finish_reason).toBe('length');
    expect(frames.at(-1)!.choices).toEqual([]);
    expect(frames.at(-1)!.usage).toMatchObject({ completion_tokens: 4 });
    expect(req.usage).toHaveLength(1);
  });

  it('streams completion frames and refuses an unknown model before anything runs', async () => {
    const ctx = servingContext();
    const served = await serveCompletion(
      ctx,
      { model: MODEL, prompt: 'Once', max_tokens: 3, ignore_eos: true, stream: true },
      request(),
    );
    if (!served.stream) throw new Error('expected a stream');
    const frames = (await collect(served.frames)) as CompletionChunkFrame[];
    expect(frames.map((f) => f.object)).toEqual(frames.map(() => 'text_completion'));
    expect(frames.at(-1)!.choices[0]!.finish_reason).toBe('length');
    await expect(serveCompletion(ctx, { model: 'nope', prompt: 'x' }, request())).rejects.toMatchObject({
      status: 404,
    });
  });

  it('types frames against the openai package (wrong fields do not compile)', () => {
    type ChatChoice = ChatChunkFrame['choices'][number];
    type CompletionChoice = CompletionChunkFrame['choices'][number];
    const good: ChatChoice = { index: 0, delta: { content: 'a' }, logprobs: null, finish_reason: 'abort' };
    const badFinish: ChatChoice = {
      index: 0,
      delta: {},
      logprobs: null,
      // @ts-expect-error finish_reason is one of openai's, or vLLM's 'abort'
      finish_reason: 'done',
    };
    const badDelta: ChatChoice = {
      index: 0,
      // @ts-expect-error a delta's text is `content`
      delta: { text: 'a' },
      logprobs: null,
      finish_reason: null,
    };
    const badText: CompletionChoice = {
      index: 0,
      // @ts-expect-error a completion choice's text is a string
      text: 1,
      logprobs: null,
      finish_reason: null,
      stop_reason: null,
    };
    expect([good, badFinish, badDelta, badText].map((c) => c.index)).toEqual([0, 0, 0, 0]);
  });
});
