/**
 * The openai client's own structured-output and tool helpers against a live nimsim:
 * `chat.completions.parse` with a zod response format and zod tools, and the streaming helper that
 * reassembles tool-call deltas.
 */
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

const MODEL = 'meta/llama-3.1-8b-instruct';

let server: LiveServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startLiveServer();
  client = new OpenAI({ baseURL: `${server.baseUrl}/v1`, apiKey: 'not-used', maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
});

const Recipe = z.object({
  name: z.string(),
  servings: z.number().int().min(1).max(12),
  difficulty: z.enum(['easy', 'medium', 'hard']),
  ingredients: z
    .array(z.object({ item: z.string(), grams: z.number().min(0) }))
    .min(1)
    .max(5),
  vegetarian: z.boolean(),
  notes: z.string().nullable(),
});

describe('chat.completions.parse', () => {
  it('parses a zod response format on 20 seeds', async () => {
    for (let seed = 0; seed < 20; seed++) {
      const completion = await client.chat.completions.parse({
        model: MODEL,
        messages: [{ role: 'user', content: 'Give me a recipe.' }],
        response_format: zodResponseFormat(Recipe, 'recipe'),
        seed,
      });
      const parsed = completion.choices[0]?.message.parsed;
      expect(Recipe.parse(parsed)).toEqual(parsed);
    }
  });

  it('parses zod tool arguments of a forced call', async () => {
    const CreateTicket = z.object({
      title: z.string(),
      priority: z.enum(['low', 'high']),
      labels: z.array(z.string()).max(3),
    });
    const completion = await client.chat.completions.parse({
      model: MODEL,
      messages: [{ role: 'user', content: 'File a ticket about the login bug.' }],
      tools: [zodFunction({ name: 'create_ticket', parameters: CreateTicket })],
      tool_choice: 'required',
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type).toBe('function');
    const args = call?.type === 'function' ? call.function.parsed_arguments : undefined;
    expect(CreateTicket.parse(args)).toEqual(args);
  });
});

describe('streaming tool calls', () => {
  it('the stream helper reassembles the call the model streamed', async () => {
    const stream = client.chat.completions.stream({
      model: MODEL,
      messages: [{ role: 'user', content: 'What is the stock price of NVDA?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_stock_price',
            description: 'Get the latest stock price for a ticker symbol',
            parameters: {
              type: 'object',
              properties: { symbol: { type: 'string', pattern: '^[A-Z]{1,5}$' } },
              required: ['symbol'],
            },
          },
        },
      ],
    });
    const argDeltas: string[] = [];
    stream.on('tool_calls.function.arguments.delta', (e) => argDeltas.push(e.arguments_delta));
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function.name).toBe('get_stock_price');
    const args =
      call?.type === 'function' ? (JSON.parse(call.function.arguments) as { symbol: string }) : undefined;
    expect(args?.symbol).toMatch(/^[A-Z]{1,5}$/);
    expect(argDeltas.length).toBeGreaterThan(1);
    expect(argDeltas.join('')).toBe(call?.type === 'function' ? call.function.arguments : '');
  });
});
