/**
 * The Tensor: a typed storage seen through a shape, strides and an offset (views share storage), plus
 * what reverse-mode autograd needs (`requiresGrad`, `grad`, and the `gradFn` that made it).
 */
import { allocate, isFloat, storageLength, type DType, type Storage, type ArrayOf } from './dtype.ts';
import { contiguousStrides, numel, formatShape, type Shape } from './shape.ts';
import type { Rng } from './random.ts';
import type { GradFn } from './autograd.ts';

/**
 * Fine-grained scales of a low-precision weight: the real value is decoded(w) · scaleInv of its
 * block (DeepSeek-V3 stores one f32 per 128×128 block of an fp8 weight; int8 uses one per row).
 */
export interface BlockScale {
  scaleInv: Float32Array;
  blockRows: number;
  blockCols: number;
}

export class Tensor {
  readonly data: Storage;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  /** Block scales for fp8 / int8 weights (see BlockScale); absent for ordinary tensors. */
  scale: BlockScale | undefined;
  requiresGrad = false;
  /** Accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | null = null;
  /** The op that produced this tensor, when it was recorded for autograd. */
  gradFn: GradFn | null = null;

  constructor(data: Storage, shape: Shape, dtype: DType, strides?: Shape, offset = 0) {
    this.data = data;
    this.dtype = dtype;
    this.shape = [...shape];
    this.strides = strides ? [...strides] : contiguousStrides(shape);
    this.offset = offset;
    if (!strides && offset === 0 && storageLength(dtype, numel(shape)) !== data.length) {
      throw new Error(`storage of ${data.length} elements cannot hold shape ${formatShape(shape)}`);
    }
  }

  /** A new contiguous tensor from values (copied into the dtype's storage). */
  static from(values: ArrayLike<number>, shape?: Shape, dtype: DType = 'f32'): Tensor {
    const s = shape ?? [values.length];
    if (numel(s) !== values.length) throw new Error(`${values.length} values cannot fill shape ${formatShape(s)}`);
    const data = allocate(dtype, values.length);
    for (let i = 0; i < values.length; i++) data[i] = values[i]!;
    return new Tensor(data, s, dtype);
  }

  /** Wraps an existing typed array without copying. */
  static wrap<D extends DType>(data: ArrayOf[D], shape: Shape, dtype: D): Tensor {
    return new Tensor(data, shape, dtype);
  }

  static zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
    return new Tensor(allocate(dtype, numel(shape)), shape, dtype);
  }

  static full(shape: Shape, value: number, dtype: DType = 'f32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    t.data.fill(value);
    return t;
  }

  static ones(shape: Shape, dtype: DType = 'f32'): Tensor {
    return Tensor.full(shape, 1, dtype);
  }

  /** Normal(0, std²) entries from a seeded generator. */
  static randn(shape: Shape, rng: Rng, std = 1, dtype: 'f32' | 'f64' = 'f32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    const d = t.data;
    for (let i = 0; i < d.length; i++) d[i] = rng.normal() * std;
    return t;
  }

  /** Uniform in [lo, hi) from a seeded generator. */
  static rand(shape: Shape, rng: Rng, lo = 0, hi = 1, dtype: 'f32' | 'f64' = 'f32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    const d = t.data;
    for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * rng.uniform();
    return t;
  }

  static arange(n: number, dtype: DType = 'i32'): Tensor {
    const t = Tensor.zeros([n], dtype);
    for (let i = 0; i < n; i++) t.data[i] = i;
    return t;
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return numel(this.shape);
  }

  /** True when the elements lie in row-major order from `offset` with no gaps. */
  isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i]!;
    }
    return true;
  }

  /** Marks a leaf as trainable; returns itself for chaining. */
  requireGrad(flag = true): this {
    if (flag && !isFloat(this.dtype)) throw new Error(`only f32/f64 tensors can require grad, not ${this.dtype}`);
    this.requiresGrad = flag;
    return this;
  }

  /** The same storage, cut off from the graph. */
  detach(): Tensor {
    const t = new Tensor(this.data, this.shape, this.dtype, this.strides, this.offset);
    t.scale = this.scale;
    return t;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item() needs one element, shape is ${formatShape(this.shape)}`);
    return this.data[this.offset] as number;
  }

  /** Elements in row-major order as a plain array (raw stored values for narrow dtypes). */
  toArray(): number[] {
    const out = new Array<number>(this.size);
    const rank = this.rank;
    const idx = new Array<number>(rank).fill(0);
    let pos = this.offset;
    for (let i = 0; i < out.length; i++) {
      out[i] = this.data[pos] as number;
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]!++;
        pos += this.strides[d]!;
        if (idx[d]! < this.shape[d]!) break;
        pos -= this.strides[d]! * this.shape[d]!;
        idx[d] = 0;
      }
    }
    return out;
  }

  toString(): string {
    return `Tensor(${this.dtype}, ${formatShape(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}
