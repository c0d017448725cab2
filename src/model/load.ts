/**
 * Opening an HF checkpoint folder as a model: config.json → typed config → family, with tensors read
 * lazily from safetensors in their stored dtype. FP8 weights get their `weight_scale_inv` blocks
 * attached, so they stay 1 byte per weight in memory and are dequantised inside the kernels.
 */
import { Tensor, cast, dequantize, type DType } from '../tensor/index.ts';
import { openCheckpoint, type Checkpoint, type StoredTensor } from '../io/safetensors/index.ts';
import { loadConfig, type ModelConfig } from '../io/config.ts';
import { FormatError } from '../io/errors.ts';
import { MissingWeightError, type Weights } from './weights.ts';
import { buildModel } from './registry.ts';
import type { CausalLM } from './causal-lm.ts';

const dtypeOf: Partial<Record<StoredTensor['dtype'], DType>> = {
  F32: 'f32', F64: 'f64', BF16: 'bf16', F16: 'f16', F8_E4M3: 'e4m3', F8_E5M2: 'e5m2', I8: 'i8', I32: 'i32', U8: 'u8', BOOL: 'u8',
};

/** A stored tensor as a Tensor without converting its values (I64 narrows to i32, checked). */
export function tensorFromStored(s: StoredTensor, name: string, file: string): Tensor {
  if (s.dtype === 'I64') {
    const out = new Int32Array(s.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = s.data[i]!;
      if (v > 2147483647n || v < -2147483648n) throw new FormatError(file, `tensor '${name}': I64 value ${v} does not fit in int32`);
      out[i] = Number(v);
    }
    return new Tensor(out, s.shape, 'i32');
  }
  const dtype = dtypeOf[s.dtype];
  if (!dtype) throw new FormatError(file, `tensor '${name}': dtype ${s.dtype} is not supported for model weights`);
  return new Tensor(s.data as Tensor['data'], s.shape, dtype);
}

export interface LoadOptions {
  /**
   * 'stored' (default) keeps each weight in its checkpoint dtype; 'f32' decodes everything
   * (fp8 with its scales applied) for training or gradient checks.
   */
  dtype?: 'stored' | 'f32';
}

/** Weights read on first use from a (sharded) safetensors checkpoint, then kept. */
export class CheckpointWeights implements Weights {
  private readonly cache = new Map<string, Tensor>();

  constructor(
    readonly checkpoint: Checkpoint,
    private readonly config: ModelConfig,
    private readonly opts: LoadOptions = {},
  ) {}

  names(): string[] {
    return this.checkpoint.names().filter((n) => !n.endsWith('_scale_inv'));
  }

  maybe(name: string): Tensor | undefined {
    const hit = this.cache.get(name);
    if (hit) return hit;
    if (!this.checkpoint.has(name)) return undefined;
    let t = tensorFromStored(this.checkpoint.read(name), name, this.checkpoint.fileOf(name));
    if (t.dtype === 'e4m3' || t.dtype === 'e5m2') t.scale = this.blockScale(name, t);
    if (this.opts.dtype === 'f32' && t.dtype !== 'f32' && t.dtype !== 'i32') {
      t = t.scale ? dequantize(t) : cast(t, 'f32');
    }
    this.cache.set(name, t);
    return t;
  }

  get(name: string): Tensor {
    const t = this.maybe(name);
    if (!t) throw new MissingWeightError(name, this.checkpoint.path);
    return t;
  }

  private blockScale(name: string, w: Tensor): Tensor['scale'] {
    const scaleName = `${name}_scale_inv`;
    const file = this.checkpoint.fileOf(name);
    const block = this.config.quantization?.weightBlockSize;
    if (!block) throw new FormatError(file, `tensor '${name}' is fp8 but config.json has no quantization_config`);
    if (!this.checkpoint.has(scaleName)) throw new FormatError(file, `fp8 tensor '${name}' has no '${scaleName}'`);
    const s = this.checkpoint.read(scaleName);
    const [rows, cols] = w.shape as [number, number];
    const expect = [Math.ceil(rows / block[0]), Math.ceil(cols / block[1])];
    if (s.dtype !== 'F32' || s.shape.length !== 2 || s.shape[0] !== expect[0] || s.shape[1] !== expect[1]) {
      throw new FormatError(file, `'${scaleName}' should be F32 [${expect}] for ${block[0]}×${block[1]} blocks, got ${s.dtype} [${s.shape}]`);
    }
    return { scaleInv: s.data as Float32Array, blockRows: block[0], blockCols: block[1] };
  }
}

export interface LoadedModel {
  config: ModelConfig;
  weights: Weights;
  model: CausalLM;
}

/** Opens a checkpoint folder (config.json + safetensors) and builds its model. */
export function loadModel(dir: string, opts: LoadOptions = {}): LoadedModel {
  const config = loadConfig(dir);
  const weights = new CheckpointWeights(openCheckpoint(dir), config, opts);
  return { config, weights, model: buildModel(config, weights) };
}

export { MissingWeightError };
