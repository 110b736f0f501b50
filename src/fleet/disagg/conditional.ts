/**
 * Conditional disaggregation: whether a request's prefill goes to a prefill replica or stays on
 * its decode replica. Dynamo's disaggregated router decides on the tokens the decode worker would
 * have to compute itself, its prompt less its prefix-cache hit there:
 *
 *   prefill remotely  ⇔  prompt tokens − tokens cached on the decode replica > max_local_prefill_length
 *
 * (`DisaggregatedRouter::prefill_remote`, default 1000, lib/llm/src/disagg_router.rs of
 * https://github.com/ai-dynamo/dynamo). So a short prompt, or one mostly cached on the decode
 * replica, is prefilled locally: moving its KV would cost more than computing it.
 *
 * Some requests are always prefilled locally, whatever their length: one with no output to
 * produce (a prefill makes the first token), one that skips the prefix cache (prompt logprobs:
 * every prompt position must be computed where they are read), and one shorter than a block (the
 * prefill side only sends full blocks, vLLM's NixlConnector: there would be nothing to move).
 */
import type { EngineRequest } from '../../engine/types.js';

export function prefillsRemotely(
  req: EngineRequest,
  decodeCachedTokens: number,
  maxLocalPrefillLength: number,
  blockSize: number,
): boolean {
  const prompt = req.promptTokenIds.length;
  if (req.outputTokenIds.length === 0 || req.skipPrefixCacheLookup === true || prompt < blockSize)
    return false;
  return prompt - decodeCachedTokens > maxLocalPrefillLength;
}

/**
 * The prompt tokens whose KV a prefill replica sends: its full blocks (vLLM's NixlConnector moves
 * whole blocks; the decode replica computes the rest, at least the last token, whose logits give
 * the first output token).
 */
export function remoteTokensOf(promptTokens: number, blockSize: number): number {
  return Math.floor(promptTokens / blockSize) * blockSize;
}
