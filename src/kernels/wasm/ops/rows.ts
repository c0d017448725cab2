/** Row-wise and elementwise ops: RMSNorm, SwiGLU gate, softmax, softmax cross-entropy. */
import type { FloatArray, Kernels } from '../../types.ts';
import { referenceKernels as ref } from '../../reference/index.ts';
import { checkRows } from '../../checks.ts';
import { withFrame } from '../frame.ts';
import { JOB } from '../layout.ts';
import { CHUNK_ELEMS, isF32, PAR_ELEMS, rowsPerChunk, type Ctx } from './context.ts';

export function rowOps({ rt }: Ctx): Pick<Kernels, 'rmsNorm' | 'siluMul' | 'softmax' | 'crossEntropy'> {
  function rmsNorm(x: FloatArray, weight: FloatArray, out: FloatArray, rows: number, dim: number, eps: number, rstd?: FloatArray): void {
    if (rt.broken || !isF32(x, weight, out, rstd)) return ref.rmsNorm(x, weight, out, rows, dim, eps, rstd);
    checkRows('rmsNorm', [x, out], rows * dim);
    checkRows('rmsNorm weight', [weight], dim);
    if (rstd) checkRows('rmsNorm rstd', [rstd], rows);
    if (rows === 0) return;
    withFrame(rt, (fr) => {
      const xp = fr.inVec(x as Float32Array, 0, rows * dim);
      const wp = fr.inVec(weight as Float32Array, 0, dim);
      const op = fr.outVec(out as Float32Array, 0, rows * dim);
      const rp = rstd ? fr.outVec(rstd as Float32Array, 0, rows) : 0;
      const per = rowsPerChunk(dim);
      rt.dispatch(JOB.RMSNORM, Math.ceil(rows / per), rows * dim >= PAR_ELEMS, (i, f) => {
        i.set([xp, wp, op, rp, rows, dim, per]);
        f[0] = eps;
      });
    });
  }

  function siluMul(gate: FloatArray, up: FloatArray, out: FloatArray, n: number): void {
    if (rt.broken || !isF32(gate, up, out)) return ref.siluMul(gate, up, out, n);
    checkRows('siluMul', [gate, up, out], n);
    if (n === 0) return;
    withFrame(rt, (fr) => {
      const g = fr.inVec(gate as Float32Array, 0, n);
      const u = fr.inVec(up as Float32Array, 0, n);
      const o = fr.outVec(out as Float32Array, 0, n);
      rt.dispatch(JOB.SILUMUL, Math.ceil(n / CHUNK_ELEMS), n >= PAR_ELEMS, (i) => i.set([g, u, o, n, CHUNK_ELEMS]));
    });
  }

  function softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void {
    if (rt.broken || !isF32(x, out)) return ref.softmax(x, out, rows, cols);
    checkRows('softmax', [x, out], rows * cols);
    if (rows === 0 || cols === 0) return;
    withFrame(rt, (fr) => {
      const xp = fr.inVec(x as Float32Array, 0, rows * cols);
      const op = fr.outVec(out as Float32Array, 0, rows * cols);
      const per = rowsPerChunk(cols);
      rt.dispatch(JOB.SOFTMAX, Math.ceil(rows / per), rows * cols >= PAR_ELEMS, (i) => i.set([xp, op, rows, cols, per]));
    });
  }

  function crossEntropy(
    logits: FloatArray,
    targets: Int32Array,
    rows: number,
    vocab: number,
    ignoreIndex: number,
    dLogits?: FloatArray,
    gradScale = 1,
  ): { loss: number; count: number } {
    if (rt.broken || !isF32(logits, dLogits)) return ref.crossEntropy(logits, targets, rows, vocab, ignoreIndex, dLogits, gradScale);
    checkRows('crossEntropy logits', [logits], rows * vocab);
    if (dLogits) checkRows('crossEntropy dLogits', [dLogits], rows * vocab);
    if (targets.length < rows) throw new RangeError(`crossEntropy targets: length ${targets.length}, need ${rows}`);
    let count = 0;
    for (let r = 0; r < rows; r++) {
      const t = targets[r]!;
      if (t === ignoreIndex) continue;
      if (!(t >= 0 && t < vocab)) throw new RangeError(`crossEntropy: target ${t} outside [0, ${vocab}) in row ${r}`);
      count++;
    }
    if (rows === 0) return { loss: 0, count: 0 };
    return withFrame(rt, (fr) => {
      const lp = fr.inVec(logits as Float32Array, 0, rows * vocab);
      const tp = fr.inBytes(targets.subarray(0, rows));
      const dp = dLogits ? fr.outVec(dLogits as Float32Array, 0, rows * vocab) : 0;
      const lossOut = fr.temp(rows * 8);
      const per = rowsPerChunk(vocab);
      rt.dispatch(JOB.XENT, Math.ceil(rows / per), rows * vocab >= PAR_ELEMS, (i, f) => {
        i.set([lp, tp, dp, rows, vocab, ignoreIndex, per, lossOut]);
        f[0] = gradScale;
      });
      let loss = 0;
      const f64 = rt.f64;
      for (let r = 0; r < rows; r++) loss += f64[(lossOut >> 3) + r]!;
      return { loss, count };
    });
  }

  return { rmsNorm, siluMul, softmax, crossEntropy };
}
