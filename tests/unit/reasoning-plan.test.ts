import { describe, expect, it } from 'vitest';

import { renderChatTemplate } from '../../src/content/chat-template.js';
import type { PlanOutputOptions } from '../../src/content/output-plan.js';
import {
  HARMONY_END_MARKER,
  HARMONY_START_MARKER,
  planReasonedReplySteps,
  THINK_END_MARKER,
  type ReasoningOptions,
} from '../../src/content/reasoning.js';
import { planReply, type ReplySpec } from '../../src/content/reply.js';
import { runToEnd } from '../../src/content/output-plan.js';
import { createTokenizer } from '../../src/content/tokenizer.js';
import { resolveReasoning } from '../../src/serving/reasoning.js';

const tokenizer = createTokenizer('llama3');
const SEEDS = Array.from({ length: 200 }, (_, i) => i * 7919 + 3);
const THINK: ReasoningOptions = { meanTokens: 120, endMarker: THINK_END_MARKER };

const plan = (opts: Omit<PlanOutputOptions, 'tokenizer'>, reasoning = THINK, spec: ReplySpec = {}) =>
  runToEnd(planReasonedReplySteps(spec, { tokenizer, ...opts }, reasoning));

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

describe('planReasonedReplySteps', () => {
  it('plans the reasoning, its end marker, then the answer a plain plan gives with what is left', () => {
    const result = plan({ seed: 5, maxTokens: 2000 });
    const part = result.reasoning!;
    const marker = tokenizer.encode(THINK_END_MARKER);
    expect(part.text.length).toBeGreaterThan(0);
    // The reasoning pieces are its text; the marker's pieces are hidden.
    expect(result.pieces.slice(0, part.tokens).join('')).toBe(part.text);
    expect(result.tokenIds.slice(part.tokens - marker.length, part.tokens)).toEqual(marker);
    expect(result.pieces.slice(part.tokens - marker.length, part.tokens).every((p) => p === '')).toBe(true);
    // The answer is the plain answer with max_tokens less the reasoning.
    const answer = planReply({}, { tokenizer, seed: 5, maxTokens: 2000 - part.tokens });
    expect(result.text).toBe(answer.text);
    expect(result.tokenIds.slice(part.tokens)).toEqual(answer.tokenIds);
    expect(result.pieces.slice(part.tokens).join('')).toBe(answer.text);
    expect(result.finishReason).toBe('stop');
    expect(result.tokenIds.length).toBe(part.tokens + answer.tokenIds.length);
  });

  it('is deterministic under the seed and differs across seeds', () => {
    expect(plan({ seed: 77, maxTokens: 3000 })).toEqual(plan({ seed: 77, maxTokens: 3000 }));
    const texts = new Set(SEEDS.slice(0, 30).map((seed) => plan({ seed, maxTokens: 3000 }).reasoning!.text));
    expect(texts.size).toBe(30);
  });

  it('draws reasoning lengths with a median near meanTokens, spread like answers', () => {
    for (const mean of [60, 400]) {
      const lengths = SEEDS.map(
        (seed) => plan({ seed, maxTokens: 20_000 }, { ...THINK, meanTokens: mean }).reasoning!.tokens,
      );
      expect(median(lengths) / mean).toBeGreaterThan(0.8);
      expect(median(lengths) / mean).toBeLessThan(1.25);
      expect(Math.max(...lengths)).toBeGreaterThan(Math.min(...lengths) * 2);
    }
  });

  it('bounds reasoning plus answer by max_tokens; a cut inside the reasoning has no answer', () => {
    for (const seed of SEEDS.slice(0, 40)) {
      const whole = plan({ seed, maxTokens: 20_000 });
      const cutAt = Math.max(1, Math.floor(whole.reasoning!.tokens / 2));
      const cut = plan({ seed, maxTokens: cutAt });
      expect(cut.tokenIds).toHaveLength(cutAt);
      expect(cut.finishReason).toBe('length');
      expect(cut.text).toBe('');
      expect(cut.reasoning!.tokens).toBe(cutAt);
      // The same reasoning up to its last few tokens (prose fits its last unit to the budget, as
      // it does for a plain answer cut by max_tokens).
      const kept = Math.max(0, cutAt - 4);
      expect(cut.tokenIds.slice(0, kept)).toEqual(whole.tokenIds.slice(0, kept));
      // One token past the reasoning: the answer starts and is cut at once.
      const oneMore = plan({ seed, maxTokens: whole.reasoning!.tokens + 1 });
      expect(oneMore.tokenIds).toHaveLength(whole.reasoning!.tokens + 1);
      expect(oneMore.finishReason).toBe('length');
    }
  });

  it('puts a tool call or structured output after the reasoning', () => {
    const spec: ReplySpec = { guided: { kind: 'choice', choices: ['yes', 'no'] } };
    const result = plan({ seed: 9, maxTokens: 5000 }, THINK, spec);
    expect(['yes', 'no']).toContain(result.text);
    expect(result.reasoning!.text.length).toBeGreaterThan(0);
  });
});

describe('resolveReasoning', () => {
  const user = [{ role: 'user' as const, content: 'hi' }];
  const settings = { meanReasoningTokens: 400 };

  it('leaves plain models alone', () => {
    expect(resolveReasoning({ messages: user }, settings)).toBeUndefined();
  });

  it('always reasons for DeepSeek-R1, with </think>', () => {
    expect(resolveReasoning({ messages: user }, { ...settings, reasoning: 'always' })).toEqual({
      meanTokens: 400,
      endMarker: THINK_END_MARKER,
    });
  });

  it('scales gpt-oss reasoning by reasoning_effort, medium by default', () => {
    const at = (effort?: 'low' | 'medium' | 'high') =>
      resolveReasoning(
        { messages: user, reasoning_effort: effort },
        { ...settings, reasoning: 'reasoning_effort' },
      );
    expect(at()).toEqual({
      meanTokens: 400,
      startMarker: HARMONY_START_MARKER,
      endMarker: HARMONY_END_MARKER,
    });
    expect(at('medium')!.meanTokens).toBe(400);
    expect(at('low')!.meanTokens).toBe(100);
    expect(at('high')!.meanTokens).toBe(1200);
  });

  it('turns Nemotron reasoning on only by the first system prompt `detailed thinking on`', () => {
    const nemotron = { ...settings, reasoning: 'system_prompt' as const };
    const withSystem = (content: string) => [{ role: 'system' as const, content }, ...user];
    expect(resolveReasoning({ messages: user }, nemotron)).toBeUndefined();
    expect(resolveReasoning({ messages: withSystem('detailed thinking off') }, nemotron)).toBeUndefined();
    expect(resolveReasoning({ messages: withSystem('detailed thinking on') }, nemotron)).toEqual({
      meanTokens: 400,
      endMarker: THINK_END_MARKER,
    });
    // Not the first message: no effect.
    expect(
      resolveReasoning(
        { messages: [...user, { role: 'system', content: 'detailed thinking on' }] },
        nemotron,
      ),
    ).toBeUndefined();
  });
});

describe('chat template dropReasoning (DeepSeek-R1)', () => {
  const history = [
    { role: 'user', content: 'Q1' },
    { role: 'assistant', content: 'thinking about it\n</think>\n\nA1' },
    { role: 'user', content: 'Q2' },
  ];

  it('renders an assistant turn from after its last </think>', () => {
    const dropped = renderChatTemplate(history, { addGenerationPrompt: true, dropReasoning: true });
    expect(dropped).not.toContain('thinking about it');
    expect(dropped).toContain('<|start_header_id|>assistant<|end_header_id|>\n\nA1<|eot_id|>');
    // Without the option (every other model) the content is rendered as sent.
    expect(renderChatTemplate(history, { addGenerationPrompt: true })).toContain('thinking about it');
  });

  it('leaves user turns and assistant turns without </think> as they are', () => {
    const plain = [
      { role: 'user', content: 'a </think> b' },
      { role: 'assistant', content: 'A1' },
    ];
    expect(renderChatTemplate(plain, { addGenerationPrompt: false, dropReasoning: true })).toBe(
      renderChatTemplate(plain, { addGenerationPrompt: false }),
    );
  });
});
