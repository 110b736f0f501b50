/**
 * Strict UTF-8 decoding of a request body in slices that yield to the event loop: decoding a
 * 10 MB body of non-ASCII text in one `TextDecoder.decode` call held the loop for 50–100 ms
 * (two-byte string creation, not validation), and every other connection waited. Sliced, no
 * turn of the loop takes more than a few milliseconds of it; the text is the same.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/** Bytes decoded per turn of the event loop (~5–10 ms of non-ASCII text on a slow core). */
const SLICE_BYTES = 1024 * 1024;

/** Decodes a one-slice body in one call (no stream state: safe to share). */
const WHOLE = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `bytes` as text; throws TypeError on invalid UTF-8, as `TextDecoder` with `fatal` does. A
 * byte-order mark stays in the text (ignoreBOM), so JSON.parse refuses it as it always did.
 */
export async function decodeUtf8InSlices(bytes: Uint8Array): Promise<string> {
  // Almost every body fits one slice: the shared decoder, no per-request construction.
  if (bytes.length <= SLICE_BYTES) return WHOLE.decode(bytes);
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const parts: string[] = [];
  for (let at = 0; at < bytes.length; at += SLICE_BYTES) {
    if (at > 0) await yieldToEventLoop();
    // stream: a character split across two slices is completed by the next one.
    parts.push(decoder.decode(bytes.subarray(at, at + SLICE_BYTES), { stream: true }));
  }
  parts.push(decoder.decode());
  return parts.join('');
}
