/**
 * What each prompt format keeps of earlier assistant turns' reasoning: the think templates
 * (DeepSeek-R1, Nemotron) nothing; gpt-oss's Harmony the reasoning sent back after the last final
 * answer (an agent loop's), as vLLM's `auto_drop_analysis_messages` does.
 */
import { describe, expect, it } from 'vitest';
import { renderChatTemplate, type ChatMessage } from '../../src/content/chat-template.js';

const ask: ChatMessage = { role: 'user', content: 'Weather in Oslo?' };
const call: ChatMessage = {
  role: 'assistant',
  content: null,
  reasoning: 'Need the weather tool.',
  tool_calls: [{ id: 'c1', function: { name: 'get_weather', arguments: '{"city": "Oslo"}' } }],
};
const result: ChatMessage = { role: 'tool', tool_call_id: 'c1', content: '8 C' };
const answer: ChatMessage = { role: 'assistant', content: 'It is 8 C.', reasoning: 'Report it.' };
const next: ChatMessage = { role: 'user', content: 'And Bergen?' };

const harmony = (messages: ChatMessage[]) =>
  renderChatTemplate(messages, { addGenerationPrompt: true, format: 'harmony' });

describe('Harmony (gpt-oss): reasoning sent back', () => {
  it("keeps an agent loop's reasoning, before its calls, while no final answer follows", () => {
    expect(harmony([ask, call, result])).toContain(
      '<|start|>user<|message|>Weather in Oslo?<|end|>' +
        '<|start|>assistant<|channel|>analysis<|message|>Need the weather tool.<|end|>' +
        '<|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{"city": "Oslo"}<|call|>',
    );
  });

  it('drops it once the model has answered, and drops an answer’s own reasoning', () => {
    const text = harmony([ask, call, result, answer, next]);
    expect(text).not.toContain('<|channel|>analysis');
    expect(text).toContain('<|start|>assistant<|channel|>final<|message|>It is 8 C.<|end|>');
  });

  it('writes text beside tool calls as a commentary preamble, not a final answer', () => {
    const text = harmony([ask, { ...call, content: 'Let me check.' }, result]);
    expect(text).toContain(
      '<|start|>assistant<|channel|>commentary<|message|>Let me check.<|end|>' +
        '<|start|>assistant<|channel|>analysis<|message|>Need the weather tool.<|end|>',
    );
    expect(text).not.toContain('<|channel|>final');
  });
});

describe('think templates (DeepSeek-R1, Nemotron)', () => {
  it('render an answer from after its last </think>, and never the reasoning field', () => {
    const inline: ChatMessage = { role: 'assistant', content: '<think>\nHmm.\n</think>\n\nIt is 8 C.' };
    const text = renderChatTemplate([ask, inline, next], { addGenerationPrompt: true, dropReasoning: true });
    expect(text).toContain('<|start_header_id|>assistant<|end_header_id|>\n\nIt is 8 C.<|eot_id|>');
    expect(text).not.toContain('Hmm.');
    const field = renderChatTemplate([ask, answer, next], { addGenerationPrompt: true, dropReasoning: true });
    expect(field).not.toContain('Report it.');
  });
});
