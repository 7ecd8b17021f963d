// The base model a tag bundle was trained on. Tags are coordinates in one model's embedding
// space: on any other model they are noise, so a bundle records enough to recognise its model
// (including a hash of the embedding table, which catches a same-shaped fine-tune).
import { createHash } from 'node:crypto';
import { InvalidFileError, ShapeMismatchError } from '../errors';
import type { LoadedModel, ModelTensor } from '../model/description';
import { rowChunks } from '../model/tensor';

export interface ModelFingerprint {
  readonly architecture: string;
  readonly hiddenSize: number;
  readonly vocabSize: number;
  /**
   * sha256 (hex) of `model.embed_tokens.weight` as little-endian float32 bytes; a quantized
   * table is hashed as its dequantized values, which is what was hashed when every table was
   * dequantized on load, so bundles made then still match.
   */
  readonly embeddingSha256: string;
}

export const EMBEDDING_WEIGHT = 'model.embed_tokens.weight';

const hashes = new WeakMap<ModelTensor, string>();

export function modelFingerprint(model: LoadedModel): ModelFingerprint {
  const embedding = model.weights.get(EMBEDDING_WEIGHT);
  if (!embedding) throw new InvalidFileError(`model has no ${EMBEDDING_WEIGHT}`, model.source.path);
  let sha = hashes.get(embedding);
  if (sha === undefined) {
    const hash = createHash('sha256');
    for (const { buffer, byteOffset, byteLength } of rowChunks(embedding)) hash.update(new Uint8Array(buffer, byteOffset, byteLength));
    sha = hash.digest('hex');
    hashes.set(embedding, sha);
  }
  return { architecture: model.config.architecture, hiddenSize: model.config.hiddenSize, vocabSize: model.config.vocabSize, embeddingSha256: sha };
}

/** What differs between two fingerprints, as short phrases; empty when they match. */
export function fingerprintDifferences(bundle: ModelFingerprint, model: ModelFingerprint): string[] {
  const out: string[] = [];
  if (bundle.architecture !== model.architecture) out.push(`architecture ${bundle.architecture} vs ${model.architecture}`);
  if (bundle.hiddenSize !== model.hiddenSize) out.push(`hidden size ${bundle.hiddenSize} vs ${model.hiddenSize}`);
  if (bundle.vocabSize !== model.vocabSize) out.push(`vocab size ${bundle.vocabSize} vs ${model.vocabSize}`);
  if (bundle.embeddingSha256 !== model.embeddingSha256) {
    out.push(`embedding sha256 ${bundle.embeddingSha256.slice(0, 12)}… vs ${model.embeddingSha256.slice(0, 12)}…`);
  }
  return out;
}

/** Refuses a bundle (at `bundlePath`) whose base model is not `model`, naming what differs. */
export function requireSameModel(bundleModel: ModelFingerprint, model: ModelFingerprint, bundlePath: string): void {
  const differs = fingerprintDifferences(bundleModel, model);
  if (differs.length > 0) throw new ShapeMismatchError(`tag bundle was made for another model (bundle vs loaded model: ${differs.join('; ')})`, bundlePath);
}
