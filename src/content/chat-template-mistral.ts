/**
 * Mixtral 8x7B Instruct v0.1's chat template (the `chat_template` of
 * mistralai/Mixtral-8x7B-Instruct-v0.1's tokenizer_config.json):
 *
 *   <s>[INST] {user} [/INST]{assistant}</s>[INST] {user} [/INST]
 *
 * `[INST]` and `[/INST]` are plain text in this vocabulary (only `<unk>`, `<s>`, `</s>` are
 * special), and each stretch of text after `<s>` or `</s>` is encoded with SentencePiece's dummy
 * prefix, as Hugging Face's tokenizer does (tokenizer-mistral.ts).
 *
 * Where the model's template refuses ("Conversation roles must alternate…", "Only user and
 * assistant roles are supported!"), nimsim renders instead, so clients that send a system prompt
 * or tool turns keep working: a system (or developer) message joins the first user message,
 * separated by a blank line (as Mistral's later templates place the system prompt in a user
 * turn); a tool result is a user turn; an assistant's tool calls are the JSON it wrote. The v0.1
 * template has no tool prompt, so offered tools add no tokens.
 */
import { contentText } from '../util/content-text.js';
import type { ChatMessage, Segment } from './chat-template.js';
import { pythonJson } from './python-json.js';

const BOS = { special: '<s>' };
const EOS = { special: '</s>' };

export function mistralSegments(messages: readonly ChatMessage[]): Segment[] {
  const out: Segment[] = [BOS];
  const system = messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => contentText(m.content))
    .join('\n\n');
  let systemPending = system !== '';
  for (const message of messages) {
    if (message.role === 'system' || message.role === 'developer') continue;
    if (message.role === 'assistant') {
      const calls = message.tool_calls ?? [];
      const text =
        calls.length > 0
          ? calls
              .map((c) => {
                const args =
                  typeof c.function.arguments === 'string'
                    ? c.function.arguments
                    : pythonJson(c.function.arguments);
                return `{"name": "${c.function.name}", "parameters": ${args}}`;
              })
              .join('; ')
          : contentText(message.content);
      out.push(text, EOS);
      continue;
    }
    let text = contentText(message.content);
    if (systemPending && message.role === 'user') {
      text = `${system}\n\n${text}`;
      systemPending = false;
    }
    out.push(`[INST] ${text} [/INST]`);
  }
  if (systemPending) out.push(`[INST] ${system} [/INST]`);
  return out;
}
