/**
 * Rotary-embedding tables: the inverse frequencies of each scaling scheme the released checkpoints
 * use (plain, YaRN for DeepSeek-V2/V3, llama3 for Llama-3.x), and cos/sin rows for given positions.
 * The maths follows transformers' rope initialisers so logits match the reference.
 */
import { Tensor } from '../tensor/index.ts';
import type { RopeScaling } from '../io/config.ts';

export interface RopeSpec {
  /** Base θ. */
  theta: number;
  /** Rotated channels per head (DeepSeek: qk_rope_head_dim; Llama/Qwen: head_dim). */
  dim: number;
  maxPositionEmbeddings: number;
  scaling: RopeScaling;
}

/** YaRN's attention-temperature correction: 0.1·m·ln(s) + 1 for s > 1. */
export function yarnMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

/** Inverse frequencies (dim/2 of them) and the factor cos/sin are multiplied by. */
export function ropeFrequencies(spec: RopeSpec): { invFreq: Float64Array; attentionScaling: number } {
  const { theta, dim, scaling } = spec;
  const half = dim / 2;
  const base = new Float64Array(half);
  for (let i = 0; i < half; i++) base[i] = 1 / Math.pow(theta, (2 * i) / dim);
  switch (scaling.type) {
    case 'default':
      return { invFreq: base, attentionScaling: 1 };
    case 'llama3': {
      const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: oldLen } = scaling;
      const lowWavelen = oldLen / lowFreqFactor;
      const highWavelen = oldLen / highFreqFactor;
      const inv = base.map((f) => {
        const wavelen = (2 * Math.PI) / f;
        if (wavelen > lowWavelen) return f / factor;
        if (wavelen < highWavelen) return f;
        const smooth = (oldLen / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * (f / factor) + smooth * f;
      });
      return { invFreq: inv, attentionScaling: 1 };
    }
    case 'yarn': {
      const { factor, betaFast, betaSlow, mscale, mscaleAllDim, originalMaxPositionEmbeddings: oldLen } = scaling;
      const attentionScaling =
        scaling.attentionFactor ??
        (mscale && mscaleAllDim ? yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim) : yarnMscale(factor));
      const correctionDim = (rot: number) => (dim * Math.log(oldLen / (rot * 2 * Math.PI))) / (2 * Math.log(theta));
      const low = Math.max(Math.floor(correctionDim(betaFast)), 0);
      let high = Math.min(Math.ceil(correctionDim(betaSlow)), dim - 1);
      if (low === high) high += 0.001;
      const inv = new Float64Array(half);
      for (let i = 0; i < half; i++) {
        const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
        const extrapolation = 1 - ramp; // 1 keeps the original frequency (high-frequency channels)
        const interp = base[i]! / factor;
        inv[i] = interp * (1 - extrapolation) + base[i]! * extrapolation;
      }
      return { invFreq: inv, attentionScaling };
    }
  }
}

/** Precomputed frequencies; `tables(positions)` gives the cos/sin rows the rope op takes. */
export class RotaryEmbedding {
  readonly invFreq: Float64Array;
  readonly attentionScaling: number;

  constructor(readonly spec: RopeSpec) {
    const f = ropeFrequencies(spec);
    this.invFreq = f.invFreq;
    this.attentionScaling = f.attentionScaling;
  }

  /** cos/sin [T, dim/2] for positions of one sequence, or [B, T, dim/2] for one row per sequence. */
  tables(positions: Int32Array | number[], batch?: number): { cos: Tensor; sin: Tensor } {
    const half = this.invFreq.length;
    const n = positions.length;
    const cos = new Float32Array(n * half);
    const sin = new Float32Array(n * half);
    for (let t = 0; t < n; t++) {
      // the angle in f32, as the reference computes inv_freq ⊗ positions in float32
      for (let i = 0; i < half; i++) {
        const angle = Math.fround(Math.fround(this.invFreq[i]!) * positions[t]!);
        cos[t * half + i] = Math.cos(angle) * this.attentionScaling;
        sin[t * half + i] = Math.sin(angle) * this.attentionScaling;
      }
    }
    const shape = batch === undefined ? [n, half] : [batch, n / batch, half];
    return { cos: new Tensor(cos, shape, 'f32'), sin: new Tensor(sin, shape, 'f32') };
  }
}
