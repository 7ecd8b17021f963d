// Rotary inverse frequencies, as Hugging Face transformers computes them (default, 'linear'
// and 'llama3' scaling). The graph multiplies them by each token's position.
import type { LlamaConfig } from '../model/description';

export function ropeInverseFrequencies(config: LlamaConfig): Float32Array {
  const half = config.headDim / 2;
  const inv = Float64Array.from({ length: half }, (_, i) => 1 / Math.pow(config.ropeTheta, (2 * i) / config.headDim));
  const scaling = config.ropeScaling;
  if (scaling?.type === 'linear') for (let i = 0; i < half; i++) inv[i] /= scaling.factor;
  if (scaling?.type === 'llama3') {
    const low = scaling.lowFreqFactor ?? 1;
    const high = scaling.highFreqFactor ?? 4;
    const oldContext = scaling.originalMaxPositionEmbeddings ?? 8192;
    const lowFreqWavelen = oldContext / low;
    const highFreqWavelen = oldContext / high;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowFreqWavelen) inv[i] /= scaling.factor;
      else if (wavelen >= highFreqWavelen) {
        const smooth = (oldContext / wavelen - low) / (high - low);
        inv[i] = (1 - smooth) * (inv[i] / scaling.factor) + smooth * inv[i];
      }
    }
  }
  return Float32Array.from(inv);
}
