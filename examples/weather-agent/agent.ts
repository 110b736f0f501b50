/**
 * A small tool-calling app: it asks the model, runs the tool the model calls, sends the result
 * back and returns the model's final answer. It knows nothing of nimsim — point `baseURL` at any
 * OpenAI-compatible server (a NIM, vLLM, or nimsim with a rules file for predictable tests).
 */
import type OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';

/** The app's one tool: a (fake) weather lookup. */
export interface WeatherService {
  current(city: string): { city: string; temperature_c: number; sky: string };
}

const TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Get the current weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', description: 'City name, e.g. Oslo' } },
        required: ['city'],
        additionalProperties: false,
      },
    },
  },
];

export interface AgentResult {
  readonly answer: string;
  /** The tool calls the app executed, in order. */
  readonly calls: readonly { name: string; args: unknown }[];
}

/** Answers `question`, running tools until the model replies in prose (at most `maxTurns`). */
export async function askAgent(
  client: OpenAI,
  model: string,
  question: string,
  weather: WeatherService,
  maxTurns = 4,
): Promise<AgentResult> {
  const messages: ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are a helpful assistant. Use tools when they help.' },
    { role: 'user', content: question },
  ];
  const calls: { name: string; args: unknown }[] = [];
  for (let turn = 0; turn < maxTurns; turn++) {
    const completion = await client.chat.completions.create({ model, messages, tools: TOOLS });
    const message = completion.choices[0]?.message;
    if (!message) throw new Error('no choice in the response');
    const toolCalls = (message.tool_calls ?? []).filter((c) => c.type === 'function');
    if (toolCalls.length === 0) return { answer: message.content ?? '', calls };
    messages.push({ role: 'assistant', content: message.content, tool_calls: toolCalls });
    for (const call of toolCalls) {
      const args = JSON.parse(call.function.arguments) as { city: string };
      calls.push({ name: call.function.name, args });
      const result =
        call.function.name === 'get_weather' ? weather.current(args.city) : { error: 'unknown tool' };
      messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
    }
  }
  throw new Error(`no answer after ${maxTurns} turns`);
}
