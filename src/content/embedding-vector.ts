/**
 * Embedding vectors for a simulated embedding model: deterministic, unit length, and closer for
 * texts that share words than for unrelated ones — but not semantic. Synonyms, paraphrases and
 * translations are as far apart as any unrelated texts (docs/embeddings.md#vectors).
 *
 * How: a text's features are its lower-cased words (weight 1 + ln(count); common function words a
 * quarter of that, or every English text would look alike) and adjacent word pairs (half). With an
 * `input_type`, each feature also adds a smaller copy of itself specific to that type, so a query
 * and a passage of the same text are close but not equal, as an asymmetric model's are, while two
 * unrelated queries share nothing. Each feature is hashed into a few signed
 * coordinates (feature hashing, a sparse random projection): some among the first `denseBand`
 * coordinates, some anywhere, so a vector cut to any Matryoshka length the model offers still
 * carries every feature. Shared features add the same signed coordinates, unrelated ones land on
 * different coordinates, so cosine similarity grows with the words two texts share. The space is
 * fixed by a seed (model and NIMSIM_SEED): the same text always gets the same vector.
 */
import { hashSeed } from '../util/random.js';

export interface EmbeddingSpace {
  /** Full vector length. */
  readonly dimensions: number;
  /** Coordinates every feature also lands in: the shortest length the vector may be cut to. */
  readonly denseBand: number;
  readonly seed: number;
}

/** Signed coordinates per feature, in the dense band and anywhere. */
const COORDS_PER_FEATURE = 4;
const PAIR_WEIGHT = 0.5;
const FUNCTION_WORD_WEIGHT = 0.25;
/** Relative weight of a feature's input_type copy: a query and a passage of one text are at cosine 1 / (1 + 0.35²) ≈ 0.89. */
const INPUT_TYPE_SHARE = 0.35;
const FUNCTION_WORDS = new Set(
  (
    'a an the and or but of to in on at by for with from as is are was were be been it its this that ' +
    'these those what which who how when where why do does did has have had not no so if then than'
  ).split(' '),
);
/** The feature of a text without words, so its vector still has unit length. */
const NO_WORDS = '\u0000no-words';

const WORD = /[\p{L}\p{N}]+/gu;

/** The text's features and their weights. */
export function textFeatures(text: string): Map<string, number> {
  const words = text.toLowerCase().match(WORD) ?? [];
  const counts = new Map<string, number>();
  const add = (feature: string, weight: number) => counts.set(feature, (counts.get(feature) ?? 0) + weight);
  for (let i = 0; i < words.length; i++) {
    add(words[i]!, FUNCTION_WORDS.has(words[i]!) ? FUNCTION_WORD_WEIGHT : 1);
    if (i > 0) add(`${words[i - 1]!}\u0000${words[i]!}`, PAIR_WEIGHT);
  }
  const features = new Map<string, number>();
  // Sublinear in repetition, so one repeated word does not swamp the rest.
  for (const [feature, weight] of counts) features.set(feature, weight > 1 ? 1 + Math.log(weight) : weight);
  if (features.size === 0) features.set(NO_WORDS, 1);
  return features;
}

/** The unit vector of `text` in `space`, at full length. */
export function embedText(text: string, inputType: string | undefined, space: EmbeddingSpace): Float64Array {
  const vector = new Float64Array(space.dimensions);
  for (const [feature, weight] of textFeatures(text)) {
    addFeature(vector, feature, weight, space);
    if (inputType !== undefined)
      addFeature(vector, `${feature}\u0000${inputType}`, weight * INPUT_TYPE_SHARE, space);
  }
  return vector;
}

/** The vector's first `length` coordinates scaled to unit length (Matryoshka truncation), as float32 values. */
export function unitPrefix(vector: Float64Array, length: number): number[] {
  let norm = 0;
  for (let i = 0; i < length; i++) norm += vector[i]! * vector[i]!;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  const out = new Array<number>(length);
  for (let i = 0; i < length; i++) out[i] = Math.fround(vector[i]! * scale);
  return out;
}

/** Float32 little-endian bytes in base64: `encoding_format: "base64"`, as OpenAI's clients decode it. */
export function float32Base64(values: readonly number[]): string {
  const bytes = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) bytes.writeFloatLE(values[i]!, i * 4);
  return bytes.toString('base64');
}

function addFeature(vector: Float64Array, feature: string, weight: number, space: EmbeddingSpace): void {
  // xorshift32 from the feature's hash: the coordinates and signs of this feature in this space.
  let state = hashSeed(space.seed, feature) || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  for (let k = 0; k < 2 * COORDS_PER_FEATURE; k++) {
    const bits = next();
    const range = k < COORDS_PER_FEATURE ? space.denseBand : space.dimensions;
    const at = (bits >>> 1) % range;
    vector[at] = vector[at]! + (bits & 1 ? weight : -weight);
  }
}
