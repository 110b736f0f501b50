/**
 * The block keys a replica's prefix cache would look a prompt up by, for a router in front of
 * several engines: the same chained hash (kv-cache/block-hash.ts) with the same seed (the model
 * key and the request's cache salt), over the blocks a lookup can match — every full block but
 * one holding the prompt's last token, which is always computed (kv-cache-manager.ts `match`).
 * A router compares these keys with the ones the replicas publish in their KV events (a LoRA
 * request's keys are its adapter's own, as the caches key them).
 */
import { cachePartition, hashBlockTokens, prefixSeed } from './kv-cache/block-hash.js';

/**
 * Keys of a prompt's matchable blocks, first block first (empty when the prompt fits one block),
 * under the request's cache salt and LoRA adapter (block-hash.ts `cachePartition`).
 */
export type PromptBlockKeys = (
  tokenIds: readonly number[],
  cacheSalt?: string,
  loraName?: string,
) => number[];

/** Seeds remembered per partition; beyond this many the table starts over (each is cheap to redo). */
const MAX_SEEDS = 4096;

export function createPromptBlockKeys(modelKey: string, blockSize: number): PromptBlockKeys {
  const modelSeed = prefixSeed(modelKey);
  const seeds = new Map<string, number>();
  const seedFor = (salt: string | undefined) => {
    if (!salt) return modelSeed;
    let seed = seeds.get(salt);
    if (seed === undefined) {
      if (seeds.size >= MAX_SEEDS) seeds.clear();
      seed = prefixSeed(modelKey, salt);
      seeds.set(salt, seed);
    }
    return seed;
  };
  return (tokenIds, cacheSalt, loraName) => {
    const blocks = Math.floor((tokenIds.length - 1) / blockSize);
    const keys: number[] = [];
    let parent = seedFor(loraName === undefined ? cacheSalt : cachePartition(cacheSalt, loraName));
    for (let i = 0; i < blocks; i++) {
      parent = hashBlockTokens(parent, tokenIds, i * blockSize, blockSize);
      keys.push(parent);
    }
    return keys;
  };
}

/**
 * The block keys of a prompt that grows by appending (a conversation resending its history): the
 * keys of the earlier prompts, kept in `known`, are extended by the blocks hashed for the first
 * time, so each turn hashes only its new tokens rather than the whole conversation again.
 * Returns a new array of the prompt's matchable keys (what {@link PromptBlockKeys} gives), which
 * stays as it is when `known` grows. The caller guarantees that every prompt given with one
 * `known` starts with the tokens of the ones before it. No cache salt (the model's seed).
 */
export type GrowingPromptBlockKeys = (known: number[], tokenIds: readonly number[]) => number[];

export function createGrowingPromptBlockKeys(modelKey: string, blockSize: number): GrowingPromptBlockKeys {
  const modelSeed = prefixSeed(modelKey);
  return (known, tokenIds) => {
    const blocks = Math.floor((tokenIds.length - 1) / blockSize);
    let parent = known.length > 0 ? known[known.length - 1]! : modelSeed;
    for (let i = known.length; i < blocks; i++) {
      parent = hashBlockTokens(parent, tokenIds, i * blockSize, blockSize);
      known.push(parent);
    }
    return known.slice(0, Math.max(0, blocks));
  };
}

/**
 * Keys of every full block of `tokenIds` under the model's seed: the head of a conversation's
 * keys when every conversation starts with these tokens (a shared system prompt), hashed once for
 * all of them rather than once per conversation.
 */
export function prefixBlockKeys(modelKey: string, blockSize: number, tokenIds: readonly number[]): number[] {
  const keys: number[] = [];
  let parent = prefixSeed(modelKey);
  for (let i = 0; (i + 1) * blockSize <= tokenIds.length; i++) {
    parent = hashBlockTokens(parent, tokenIds, i * blockSize, blockSize);
    keys.push(parent);
  }
  return keys;
}
