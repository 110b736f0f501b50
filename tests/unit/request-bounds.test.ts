import { describe, expect, it } from 'vitest';

import { ApiError } from '../../src/serving/errors.js';
import {
  checkBounds,
  checkQueueRoom,
  checkStreamedEcho,
  STREAMED_ECHO_MAX_LOGPROBS,
  RequestBudget,
  type RequestDemand,
  type RequestLimits,
} from '../../src/serving/request-bounds.js';

const LIMITS: RequestLimits = {
  maxTokensPerRequest: 1000,
  maxLogprobsPerRequest: 500,
  maxWaiting: 8,
  maxModelLen: 400,
};

const demand = (d: Partial<RequestDemand> = {}): RequestDemand => ({
  n: 1,
  prompts: [{ promptTokens: 10, maxTokens: 100 }],
  ignoreEos: false,
  minTokens: 0,
  logprobsPerToken: 0,
  promptLogprobsPerToken: 0,
  maxTokensField: 'max_tokens',
  logprobsField: 'logprobs',
  ...d,
});

/** The ApiError `fn` throws (fails when it throws nothing or something else). */
function refusal(fn: () => void): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('checkQueueRoom', () => {
  it('lets through a request whose sequences all fit the room left', () => {
    expect(() =>
      checkQueueRoom(
        6,
        8,
        demand({
          n: 3,
          prompts: [
            { promptTokens: 1, maxTokens: 1 },
            { promptTokens: 1, maxTokens: 1 },
          ],
        }),
      ),
    ).not.toThrow();
  });

  it('refuses with 429 and Retry-After when the room left is short', () => {
    const err = refusal(() => checkQueueRoom(3, 8, demand({ n: 4 })));
    expect(err.status).toBe(429);
    expect(err.headers).toEqual({ 'retry-after': '1' });
    expect(err.param).toBeNull();
    expect(err.message).toBe(
      "The waiting queue has room for 3 of this request's 4 sequences (n 4; 8 at most). Retry later.",
    );
  });

  it('says so when the request is larger than the whole queue, prompts × n', () => {
    const prompts = Array.from({ length: 3 }, () => ({ promptTokens: 2, maxTokens: 16 }));
    const err = refusal(() => checkQueueRoom(8, 8, demand({ n: 3, prompts })));
    expect(err.status).toBe(429);
    expect(err.message).toBe(
      'This request makes 9 sequences (3 prompts × n 3), more than the waiting queue holds (8, NIMSIM_MAX_WAITING). Please send fewer.',
    );
  });

  it("gives a single request the engine's own queue-full message, even with a queue of 0", () => {
    expect(refusal(() => checkQueueRoom(0, 8, demand())).message).toBe(
      'The waiting queue is full (8 requests). Retry later.',
    );
    expect(refusal(() => checkQueueRoom(0, 0, demand())).message).toBe(
      'The waiting queue is full (0 requests). Retry later.',
    );
  });
});

describe('RequestBudget.checkForced', () => {
  it('counts n × (prompt + max_tokens) with ignore_eos: up to the bound passes, one more is 400 naming max_tokens', () => {
    // 4 × (10 + 240) = 1000
    expect(() =>
      new RequestBudget(
        LIMITS,
        demand({ n: 4, ignoreEos: true, prompts: [{ promptTokens: 10, maxTokens: 240 }] }),
      ).checkForced(),
    ).not.toThrow();
    const err = refusal(() =>
      new RequestBudget(
        LIMITS,
        demand({ n: 4, ignoreEos: true, prompts: [{ promptTokens: 10, maxTokens: 241 }] }),
      ).checkForced(),
    );
    expect(err.status).toBe(400);
    expect(err.param).toBe('max_tokens');
    expect(err.message).toBe(
      'This request asks for 1004 tokens: 4 choices of prompt plus max_tokens (ignore_eos). One request may take at most 1000 on this server (NIMSIM_MAX_TOKENS_PER_REQUEST); please reduce n or max_tokens.',
    );
  });

  it('names the field the request used, and min_tokens when that is what forces the output', () => {
    const chat = refusal(() =>
      new RequestBudget(
        LIMITS,
        demand({ n: 10, ignoreEos: true, maxTokensField: 'max_completion_tokens' }),
      ).checkForced(),
    );
    expect(chat.param).toBe('max_completion_tokens');
    // 8 × (10 + min(200, 300)) = 1680
    const min = refusal(() =>
      new RequestBudget(
        LIMITS,
        demand({ n: 8, minTokens: 200, prompts: [{ promptTokens: 10, maxTokens: 300 }] }),
      ).checkForced(),
    );
    expect(min.param).toBe('min_tokens');
    expect(min.message).toBe(
      'This request asks for 1680 tokens: 8 choices of prompt plus min_tokens. One request may take at most 1000 on this server (NIMSIM_MAX_TOKENS_PER_REQUEST); please reduce n or min_tokens.',
    );
  });

  it('does not count max_tokens of answers that end on their own', () => {
    expect(() =>
      new RequestBudget(
        LIMITS,
        demand({ n: 9, prompts: [{ promptTokens: 10, maxTokens: 390 }] }),
      ).checkForced(),
    ).not.toThrow();
  });

  it('refuses prompts that alone cross the bound, naming n', () => {
    const err = refusal(() =>
      new RequestBudget(
        LIMITS,
        demand({ n: 3, prompts: [{ promptTokens: 350, maxTokens: 50 }] }),
      ).checkForced(),
    );
    expect(err.param).toBe('n');
    expect(err.message).toBe(
      'This request asks for 1050 tokens: 3 choices of their prompts alone. One request may take at most 1000 on this server (NIMSIM_MAX_TOKENS_PER_REQUEST); please reduce n or the prompt.',
    );
  });

  it('never goes below max_model_len: one choice that fits the context passes', () => {
    const limits = { ...LIMITS, maxTokensPerRequest: 10 };
    expect(() =>
      new RequestBudget(
        limits,
        demand({ ignoreEos: true, prompts: [{ promptTokens: 10, maxTokens: 390 }] }),
      ).checkForced(),
    ).not.toThrow();
    const err = refusal(() =>
      new RequestBudget(
        limits,
        demand({ n: 2, ignoreEos: true, prompts: [{ promptTokens: 10, maxTokens: 390 }] }),
      ).checkForced(),
    );
    expect(err.message).toContain('at most 400 on this server');
  });

  it('counts logprob entries, tokens × (1 + top), and a batch by its prompts', () => {
    // 2 prompts × n 2 × 100 tokens × 3 = 1200 entries; tokens 4 × 110 = 440.
    const prompts = [
      { promptTokens: 10, maxTokens: 100 },
      { promptTokens: 10, maxTokens: 100 },
    ];
    const err = refusal(() =>
      new RequestBudget(
        LIMITS,
        demand({ n: 2, prompts, ignoreEos: true, logprobsPerToken: 3, logprobsField: 'top_logprobs' }),
      ).checkForced(),
    );
    expect(err.status).toBe(400);
    expect(err.param).toBe('top_logprobs');
    expect(err.message).toBe(
      'This request asks for 1200 logprobs over its 4 choices (2 prompts × n 2), 3 per token (the token and 2 alternatives). One response may carry at most 500 on this server (NIMSIM_MAX_LOGPROBS_PER_REQUEST); please reduce n, max_tokens or top_logprobs.',
    );
  });

  it("counts the prompt's logprobs when a completion echoes it", () => {
    const echo = demand({
      n: 2,
      prompts: [{ promptTokens: 200, maxTokens: 1 }],
      logprobsPerToken: 2,
      promptLogprobsPerToken: 2,
    });
    // 2 × 200 × 2 = 800 entries before anything is generated.
    expect(refusal(() => new RequestBudget(LIMITS, echo).checkForced()).param).toBe('logprobs');
    expect(() =>
      new RequestBudget(LIMITS, { ...echo, promptLogprobsPerToken: 0 }).checkForced(),
    ).not.toThrow();
  });
});

describe('RequestBudget.add', () => {
  it('refuses once the planned tokens cross the bound, naming max_tokens', () => {
    const budget = new RequestBudget(LIMITS, demand({ n: 4 })); // 40 prompt tokens
    budget.add(960);
    const err = refusal(() => budget.add(1));
    expect(err.status).toBe(400);
    expect(err.param).toBe('max_tokens');
    expect(err.message).toBe(
      "This request's 4 choices plan more than 1000 tokens (prompt plus output), the most one request may take on this server (NIMSIM_MAX_TOKENS_PER_REQUEST); please reduce n or max_tokens.",
    );
  });

  it('takes back what a stop string cut, and refuses logprobs past their bound', () => {
    const budget = new RequestBudget(LIMITS, demand({ logprobsPerToken: 5, logprobsField: 'top_logprobs' }));
    budget.add(100);
    budget.add(-10); // 90 tokens × 5 = 450 entries
    budget.add(10); // 500: at the bound
    const err = refusal(() => budget.add(1));
    expect(err.param).toBe('top_logprobs');
    expect(err.message).toBe(
      "This request's 1 choice plan more than 500 logprobs, 5 per token (the token and 4 alternatives). One response may carry at most 500 on this server (NIMSIM_MAX_LOGPROBS_PER_REQUEST); please reduce n, max_tokens or top_logprobs.",
    );
  });
});

describe('checkBounds', () => {
  const serving = (room: number) => ({ engine: { waitingRoom: () => room }, settings: LIMITS });

  it('refuses what can never be served (400) before what cannot be queued now (429)', () => {
    const big = demand({ n: 4, ignoreEos: true, prompts: [{ promptTokens: 10, maxTokens: 390 }] });
    expect(refusal(() => checkBounds(serving(0), big)).status).toBe(400);
    expect(refusal(() => checkBounds(serving(0), demand())).status).toBe(429);
    expect(checkBounds(serving(1), demand())).toBeInstanceOf(RequestBudget);
  });
});

describe('checkStreamedEcho', () => {
  const echo = (promptTokens: number, perToken: number) =>
    demand({ prompts: [{ promptTokens, maxTokens: 16 }], promptLogprobsPerToken: perToken });

  it('lets the first chunk carry up to STREAMED_ECHO_MAX_LOGPROBS entries, prompt and first token', () => {
    expect(STREAMED_ECHO_MAX_LOGPROBS).toBe(8_192);
    // (389 + 1) × 21 = 8,190
    expect(() => checkStreamedEcho(echo(389, 21))).not.toThrow();
    const err = refusal(() => checkStreamedEcho(echo(390, 21)));
    expect(err.status).toBe(400);
    expect(err.param).toBe('logprobs');
    expect(err.message).toBe(
      "A streamed completion with echo sends its prompt's logprobs in its first chunk: its 390 prompt tokens and first generated token, 21 entries each, make 8211, more than one chunk may carry (8192). Please ask without stream, or for fewer logprobs.",
    );
  });

  it('checks each prompt of a batch on its own, and nothing without prompt logprobs', () => {
    const batch = demand({
      prompts: [
        { promptTokens: 300, maxTokens: 1 },
        { promptTokens: 300, maxTokens: 1 },
      ],
      promptLogprobsPerToken: 21,
    });
    expect(() => checkStreamedEcho(batch)).not.toThrow();
    expect(() => checkStreamedEcho(echo(100_000, 0))).not.toThrow();
  });
});
