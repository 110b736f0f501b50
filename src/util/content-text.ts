/**
 * The text of a chat message's content: a string as it is, an array's text parts joined with
 * "\n" as vLLM's chat template joins them (vllm/entrypoints/chat_utils.py,
 * `_parse_chat_message_content_parts`); other parts (images, audio, refusals) add nothing. The
 * template, echo mode and rule matching all read a message through this one function, so they
 * agree on what it says.
 */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text: string | undefined;
  for (const part of content as unknown[]) {
    if (isTextPart(part)) text = text === undefined ? part.text : `${text}\n${part.text}`;
  }
  return text ?? '';
}

function isTextPart(part: unknown): part is { type: 'text'; text: string } {
  return (
    typeof part === 'object' &&
    part !== null &&
    (part as { type?: unknown }).type === 'text' &&
    typeof (part as { text?: unknown }).text === 'string'
  );
}
