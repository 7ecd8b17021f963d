// Rotary inverse frequencies, as Hugging Face transformers computes them (default, 'linear',
// 'llama3' and Phi-3's 'longrope' scaling, and Gemma 3's unscaled local theta). The graph
// multiplies them by each token's position.
import type { LlamaConfig } from '../model/description';

export interface RopeTable {
  /** Gemma 3's sliding layers: `localRopeTheta`, no scaling. */
  readonly local?: boolean;
  /** 'longrope': the long factors (used once a position reaches originalMaxPositionEmbeddings). */
  readonly long?: boolean;
}

/** The number of leading dimensions of each head that RoPE rotates. */
export const rotaryDim = (config: LlamaConfig): number => config.rotaryDim ?? config.headDim;

export function ropeInverseFrequencies(config: LlamaConfig, table: RopeTable = {}): Float32Array {
  const dim = rotaryDim(config);
  const half = dim / 2;
  const theta = table.local ? config.localRopeTheta! : config.ropeTheta;
  const inv = Float64Array.from({ length: half }, (_, i) => 1 / Math.pow(theta, (2 * i) / dim));
  const scaling = table.local ? undefined : config.ropeScaling;
  if (scaling?.type === 'linear') for (let i = 0; i < half; i++) inv[i] /= scaling.factor;
  if (scaling?.type === 'longrope') {
    const factors = table.long ? scaling.longFactor! : scaling.shortFactor!;
    for (let i = 0; i < half; i++) inv[i] /= factors[i]!;
  }
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
