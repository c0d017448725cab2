/**
 * Opening an HF checkpoint folder as a model: config.json → typed config → family, with tensors read
 * lazily from safetensors in their stored dtype. FP8 weights get their `weight_scale_inv` blocks
 * attached, so they stay 1 byte per weight in memory and are dequantised inside the kernels.
 */
import { Tensor, cast, dequantize, floatData, type DType } from '../tensor/index.ts';
import { getKernels, type FloatWeight, type QuantScheme, type QuantWeight } from '../kernels/index.ts';
import { quantizable, schemeFor } from './quantize.ts';
import { checkFitTogether, checkFits, type FitEntry } from './memory.ts';
import { openCheckpoint, type Checkpoint, type StoredTensor } from '../io/safetensors/index.ts';
import { loadConfig, type ModelConfig } from '../io/config.ts';
import { FormatError } from '../io/errors.ts';
import { MissingWeightError, type Weights } from './weights.ts';
import { buildModel } from './registry.ts';
import type { CausalLM } from './causal-lm.ts';

const dtypeOf: Partial<Record<StoredTensor['dtype'], DType>> = {
  F32: 'f32',
  F64: 'f64',
  BF16: 'bf16',
  F16: 'f16',
  F8_E4M3: 'e4m3',
  F8_E5M2: 'e5m2',
  I8: 'i8',
  I32: 'i32',
  U8: 'u8',
  BOOL: 'u8',
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
  /**
   * Quantise the block projections and the head while reading (see quantize.ts): tensor by tensor,
   * so the unquantised model is never held. Only with dtype 'stored'.
   */
  quantize?: QuantScheme;
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

  /** The tensors read so far, as held (quantised ones in their quantised form). */
  loaded(): ReadonlyMap<string, Tensor> {
    return this.cache;
  }

  maybe(name: string): Tensor | undefined {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const scheme = this.opts.quantize;
    if (!this.checkpoint.has(name)) {
      // A tied head, quantised: a converted copy of the embedding (which itself stays as stored).
      if (
        scheme &&
        name === 'lm_head.weight' &&
        quantizable(name, [1, 1], scheme) &&
        this.config.tieWordEmbeddings &&
        this.checkpoint.has('model.embed_tokens.weight')
      ) {
        const head = quantizeTensor(this.read('model.embed_tokens.weight'), scheme);
        this.cache.set(name, head);
        return head;
      }
      return undefined;
    }
    let t = this.read(name);
    if (this.opts.dtype === 'f32' && t.dtype !== 'f32' && t.dtype !== 'i32') {
      t = t.scale ? dequantize(t) : cast(t, 'f32');
    } else if (scheme && quantizable(name, t.shape, scheme) && !alreadyIn(t, scheme)) {
      t = quantizeTensor(t, scheme);
      // The stored bytes are no longer needed: hand their pages back to the page cache.
      this.checkpoint.release(name);
      if (this.checkpoint.has(`${name}_scale_inv`)) this.checkpoint.release(`${name}_scale_inv`);
    }
    this.cache.set(name, t);
    return t;
  }

  /** A stored tensor as is (fp8 / int8 / int4 with their block scales attached). */
  private read(name: string): Tensor {
    let t = tensorFromStored(this.checkpoint.read(name), name, this.checkpoint.fileOf(name));
    const q = this.config.quantization;
    if (q?.quantMethod === 'dsts' && this.checkpoint.has(`${name}_scale_inv`)) {
      // int4 codes are stored two a byte: U8 [N, K/2] is the weight [N, K].
      if (q.scheme === 'q4' && t.dtype === 'u8' && t.rank === 2) t = new Tensor(t.data, [t.shape[0]!, t.shape[1]! * 2], 'i4');
      if (t.dtype === 'i8' || t.dtype === 'i4') t.scale = this.blockScale(name, t);
    }
    if (t.dtype === 'e4m3' || t.dtype === 'e5m2') t.scale = this.blockScale(name, t);
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
    if (!block) throw new FormatError(file, `tensor '${name}' is ${w.dtype} but config.json has no quantization_config`);
    if (!this.checkpoint.has(scaleName)) throw new FormatError(file, `fp8 tensor '${name}' has no '${scaleName}'`);
    const s = this.checkpoint.read(scaleName);
    const [rows, cols] = w.shape as [number, number];
    const expect = [Math.ceil(rows / block[0]), Math.ceil(cols / block[1])];
    if (s.dtype !== 'F32' || s.shape.length !== 2 || s.shape[0] !== expect[0] || s.shape[1] !== expect[1]) {
      throw new FormatError(
        file,
        `'${scaleName}' should be F32 [${expect}] for ${block[0]}×${block[1]} blocks, got ${s.dtype} [${s.shape}]`,
      );
    }
    if (w.dtype === 'i4' && cols % 32 !== 0)
      throw new FormatError(file, `int4 tensor '${name}' needs a multiple of 32 columns, has ${cols}`);
    return { scaleInv: s.data as Float32Array, blockRows: block[0], blockCols: block[1] };
  }
}

/** True when a stored weight is already in the scheme's form (a released fp8 checkpoint loaded with fp8). */
function alreadyIn(t: Tensor, scheme: QuantScheme): boolean {
  return scheme === 'fp8' && t.dtype === 'e4m3';
}

/** A 2-D weight quantised by the active kernels (fp8 sources are decoded first, one tensor at a time). */
export function quantizeTensor(t: Tensor, scheme: QuantScheme): Tensor {
  const [N, K] = t.shape as [number, number];
  let src: FloatWeight;
  if (t.dtype === 'bf16' || t.dtype === 'f16') src = { kind: t.dtype, data: t.data as Uint16Array };
  else if (t.dtype === 'f32') src = { kind: 'f32', data: t.data as Float32Array };
  else src = { kind: 'f32', data: floatData(t.scale ? dequantize(t) : cast(t, 'f32')) as Float32Array };
  return tensorFromQuant(getKernels().quantize(src, N, K, schemeFor(scheme, K)), N, K);
}

/** A kernel-side quantised weight as a Tensor (codes + block scales). */
export function tensorFromQuant(q: QuantWeight, N: number, K: number): Tensor {
  switch (q.kind) {
    case 'i8': {
      const t = new Tensor(q.data, [N, K], 'i8');
      t.scale = { scaleInv: q.scaleInv, blockRows: 1, blockCols: q.blockCols ?? K };
      return t;
    }
    case 'i4': {
      const t = new Tensor(q.data, [N, K], 'i4');
      t.scale = { scaleInv: q.scaleInv, blockRows: 1, blockCols: 32 };
      return t;
    }
    case 'e4m3':
    case 'e5m2': {
      const t = new Tensor(q.data, [N, K], q.kind);
      t.scale = { scaleInv: q.scaleInv, blockRows: q.blockRows, blockCols: q.blockCols };
      return t;
    }
    default:
      throw new Error(`not a quantised weight: ${q.kind}`);
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
  const checkpoint = openCheckpoint(dir);
  try {
    checkFits(dir, checkpoint, config, opts.quantize, opts.dtype === 'f32');
    // Stored weights are used in place: fault the whole file in now, at disk / page-cache speed.
    // (Quantising reads each tensor once, in order, and hands its pages back afterwards.)
    if (!opts.quantize && opts.dtype !== 'f32') checkpoint.prefetch();
    const weights = new CheckpointWeights(checkpoint, config, opts);
    return { config, weights, model: buildModel(config, weights) };
  } catch (e) {
    checkpoint.close();
    throw e;
  }
}

/**
 * Checks, from their headers alone, that several checkpoint folders fit in memory together (a server
 * holds them all at once); loadModel's own check only sees one.
 */
export function checkModelsFit(models: readonly { dir: string; opts?: LoadOptions }[]): void {
  const opened: FitEntry[] = [];
  try {
    for (const { dir, opts = {} } of models) {
      const config = loadConfig(dir);
      opened.push({ dir, ckpt: openCheckpoint(dir), config, scheme: opts.quantize, asF32: opts.dtype === 'f32' });
    }
    checkFitTogether(opened);
  } finally {
    for (const m of opened) m.ckpt.close();
  }
}

export { MissingWeightError };
