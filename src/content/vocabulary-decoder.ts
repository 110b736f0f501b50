/**
 * The decoding half of a tokenizer with a vocabulary of pieces (byte-level BPE's, SentencePiece's):
 * ids checked against the vocabulary, each id's bytes worked out once and cached, and a run of ids
 * joined as bytes before it is read as UTF-8 (a character split across tokens decodes whole, a
 * split left at the end becomes U+FFFD). What differs between tokenizers is only how a piece's
 * text stands for bytes, and which ids are special.
 */
import type { Tokenizer } from './tokenizer.js';

export interface VocabularySpec {
  /** Each id's piece, as the vocabulary writes it. */
  readonly vocab: readonly string[];
  /** The bytes the piece of `id` stands for (called once per id: the result is cached). */
  readonly bytesOfPiece: (piece: string, id: number) => Uint8Array;
  /** Whether `id` (already checked to be in the vocabulary when decoding) is a special token. */
  readonly isSpecialToken: (id: number) => boolean;
}

export type VocabularyDecoder = Pick<
  Tokenizer,
  'decode' | 'tokenText' | 'tokenBytes' | 'isSpecialToken' | 'vocabSize'
>;

export function createVocabularyDecoder(spec: VocabularySpec): VocabularyDecoder {
  const { vocab, bytesOfPiece, isSpecialToken } = spec;
  const vocabSize = vocab.length;
  const byteCache: (Uint8Array | undefined)[] = [];
  const utf8 = new TextDecoder('utf-8');

  const checkId = (id: number): void => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new RangeError(`token id ${id} is outside the vocabulary (0–${vocabSize - 1})`);
    }
  };
  const bytesOf = (id: number): Uint8Array => {
    checkId(id);
    let bytes = byteCache[id];
    if (bytes === undefined) {
      bytes = bytesOfPiece(vocab[id] ?? '', id);
      byteCache[id] = bytes;
    }
    return bytes;
  };

  return {
    decode(ids, opts) {
      const skip = opts?.skipSpecialTokens === true;
      let length = 0;
      const parts: Uint8Array[] = [];
      for (const id of ids) {
        // Checked even when skipped: an id outside the vocabulary is an error either way.
        const bytes = bytesOf(id);
        if (skip && isSpecialToken(id)) continue;
        parts.push(bytes);
        length += bytes.length;
      }
      const all = new Uint8Array(length);
      let offset = 0;
      for (const part of parts) {
        all.set(part, offset);
        offset += part.length;
      }
      return utf8.decode(all);
    },
    tokenText(id) {
      checkId(id);
      return vocab[id] ?? '';
    },
    tokenBytes: (id) => Array.from(bytesOf(id)),
    isSpecialToken,
    vocabSize,
  };
}
