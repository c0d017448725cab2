/**
 * Matrix products: batched `matmul` with broadcasting over leading axes, handing transposed views to
 * the GEMM kernel as transposes (no copy), and `linear` (x·Wᵀ + b, HF's weight layout), which also
 * takes bf16 / fp8 / int8 weights and lets the kernel dequantise them on the fly.
 */
import { Tensor } from '../tensor.ts';
import { record } from '../autograd.ts';
import { promote } from '../dtype.ts';
import { broadcastShapes, formatShape, numel } from '../shape.ts';
import { getKernels } from '../../kernels/index.ts';
import type { FloatArray, QuantWeight } from '../../kernels/types.ts';
import { allocFloat, broadcastStrides, floatData } from './strided.ts';
import { contiguous, reshape, transpose, unsqueeze, squeeze } from './view.ts';
import { sumTo } from './reduce.ts';
import { add } from './elementwise.ts';
import { cast, dequantize } from './cast.ts';

/** How a matrix operand's last two axes map to a GEMM argument without copying. */
function asGemmOperand(t: Tensor): { t: Tensor; trans: boolean; ld: number } {
  const r = t.rank;
  const rows = t.shape[r - 2]!;
  const cols = t.shape[r - 1]!;
  const s0 = t.strides[r - 2]!;
  const s1 = t.strides[r - 1]!;
  if ((s1 === 1 || cols === 1) && (s0 >= cols || rows === 1)) return { t, trans: false, ld: Math.max(s0, cols, 1) };
  if ((s0 === 1 || rows === 1) && (s1 >= rows || cols === 1)) return { t, trans: true, ld: Math.max(s1, rows, 1) };
  const c = contiguous(t);
  return { t: c, trans: false, ld: Math.max(cols, 1) };
}

/** a [..., M, K] · b [..., K, N] → [..., M, N]; 1-D operands are treated as a row / column vector. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.rank === 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.rank === 1) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  const dtype = promote(a.dtype, b.dtype);
  const A0 = a.dtype === dtype ? a : cast(a, dtype);
  const B0 = b.dtype === dtype ? b : cast(b, dtype);
  const M = A0.shape[A0.rank - 2]!;
  const K = A0.shape[A0.rank - 1]!;
  const N = B0.shape[B0.rank - 1]!;
  if (B0.shape[B0.rank - 2] !== K) {
    throw new Error(`matmul: inner sizes differ, ${formatShape(a.shape)} · ${formatShape(b.shape)}`);
  }
  const batch = broadcastShapes(A0.shape.slice(0, -2), B0.shape.slice(0, -2));
  const nb = numel(batch);
  const A = asGemmOperand(A0);
  const B = asGemmOperand(B0);
  const sa = broadcastStrides(A.t.shape.slice(0, -2), A.t.strides.slice(0, -2), batch);
  const sb = broadcastStrides(B.t.shape.slice(0, -2), B.t.strides.slice(0, -2), batch);
  const C = allocFloat(dtype, nb * M * N);
  const k = getKernels();
  const idx = new Array<number>(batch.length).fill(0);
  for (let i = 0; i < nb; i++) {
    let oa = A.t.offset;
    let ob = B.t.offset;
    for (let d = 0; d < batch.length; d++) {
      oa += idx[d]! * sa[d]!;
      ob += idx[d]! * sb[d]!;
    }
    k.gemm({
      M,
      N,
      K,
      transA: A.trans,
      transB: B.trans,
      alpha: 1,
      beta: 0,
      A: A.t.data as FloatArray,
      aOffset: oa,
      lda: A.ld,
      B: B.t.data as FloatArray,
      bOffset: ob,
      ldb: B.ld,
      C,
      cOffset: i * M * N,
      ldc: N,
    });
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d]! < batch[d]!) break;
      idx[d] = 0;
    }
  }
  const out = new Tensor(C, [...batch, M, N], dtype);
  return record(out, 'matmul', [A0, B0], (g) => [
    A0.requiresGrad ? sumTo(matmul(g, transpose(B0)), A0.shape) : null,
    B0.requiresGrad ? sumTo(matmul(transpose(A0), g), B0.shape) : null,
  ]);
}

/** The kernel's view of a stored low-precision weight. */
export function quantWeightOf(w: Tensor): QuantWeight {
  const c = contiguous(w).data;
  switch (w.dtype) {
    case 'bf16':
    case 'f16':
      return { kind: w.dtype, data: c as Uint16Array };
    case 'e4m3':
    case 'e5m2': {
      if (!w.scale) throw new Error(`fp8 weight ${formatShape(w.shape)} has no block scales`);
      return {
        kind: w.dtype,
        data: c as Uint8Array,
        scaleInv: w.scale.scaleInv,
        blockRows: w.scale.blockRows,
        blockCols: w.scale.blockCols,
      };
    }
    case 'i8': {
      if (!w.scale) throw new Error(`int8 weight ${formatShape(w.shape)} has no scales`);
      return { kind: 'i8', data: c as Int8Array, scaleInv: w.scale.scaleInv, blockCols: w.scale.blockCols };
    }
    case 'i4': {
      if (!w.scale) throw new Error(`int4 weight ${formatShape(w.shape)} has no scales`);
      return { kind: 'i4', data: w.data as Uint8Array, scaleInv: w.scale.scaleInv };
    }
    default:
      throw new Error(`not a quantised weight dtype: ${w.dtype}`);
  }
}

/**
 * y = x·Wᵀ (+ bias) for x [..., K] and W [N, K]. Float weights go through GEMM (and get gradients);
 * bf16/f16/fp8/int8 weights stay in their stored form and are dequantised inside the kernel.
 */
export function linear(x: Tensor, w: Tensor, bias?: Tensor | null): Tensor {
  if (w.rank !== 2) throw new Error(`linear weight must be 2-D, got ${formatShape(w.shape)}`);
  const K = w.shape[1]!;
  const N = w.shape[0]!;
  if (x.shape[x.rank - 1] !== K) throw new Error(`linear: input ${formatShape(x.shape)} does not match weight ${formatShape(w.shape)}`);
  let y: Tensor;
  if (w.dtype === 'f32' || w.dtype === 'f64') {
    const lead = x.shape.slice(0, -1);
    y = reshape(matmul(reshape(x, [-1, K]), transpose(w)), [...lead, N]);
  } else {
    y = quantLinear(x, w);
  }
  if (!bias) return y;
  return add(y, bias.dtype === 'f32' || bias.dtype === 'f64' ? bias : cast(bias, 'f32'));
}

function quantLinear(x: Tensor, w: Tensor): Tensor {
  const K = w.shape[1]!;
  const N = w.shape[0]!;
  const xf = x.dtype === 'f32' ? x : cast(x, 'f32');
  const X = floatData(xf) as Float32Array;
  const M = X.length / K;
  const Y = new Float32Array(M * N);
  getKernels().quantMatmul({ M, N, K, X, xOffset: 0, W: quantWeightOf(w), Y, yOffset: 0 });
  const out = new Tensor(Y, [...x.shape.slice(0, -1), N], 'f32');
  // The stored weight is frozen; the input still gets dX = dY · W (W decoded once, on demand).
  return record(out, 'quantLinear', [xf], (g) => [reshape(matmul(reshape(g, [-1, N]), dequantize(w)), xf.shape)]);
}
