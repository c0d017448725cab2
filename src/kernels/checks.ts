/**
 * Argument validation shared by every kernel set: a bad shape must fail loudly in the caller's
 * terms, not read past a buffer (the fast path would read other data out of its arena).
 */
import type { AttentionArgs, AttentionBackwardArgs, FloatArray, GemmArgs } from './types.ts';

function need(name: string, arr: ArrayLike<number>, n: number): void {
  if (arr.length < n) throw new RangeError(`${name}: length ${arr.length}, need at least ${n}`);
}

/** Elements spanned by a rows×cols matrix at `offset` with leading dimension `ld`. */
export function span(offset: number, rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : offset + (rows - 1) * ld + cols;
}

export function checkGemm(a: GemmArgs): void {
  const { M, N, K, transA, transB, lda, ldb, ldc } = a;
  const [ar, ac] = transA ? [K, M] : [M, K];
  const [br, bc] = transB ? [N, K] : [K, N];
  if (lda < Math.max(1, ac) || ldb < Math.max(1, bc) || ldc < Math.max(1, N)) {
    throw new RangeError(`gemm: leading dimension too small (lda ${lda}, ldb ${ldb}, ldc ${ldc})`);
  }
  need('gemm A', a.A, span(a.aOffset, ar, ac, lda));
  need('gemm B', a.B, span(a.bOffset, br, bc, ldb));
  need('gemm C', a.C, span(a.cOffset, M, N, ldc));
}

export function checkAttention(a: AttentionArgs): void {
  const { B, H, Hkv, Tq, Tk, Dk, Dv } = a;
  if (Hkv <= 0 || H % Hkv !== 0) throw new RangeError(`attention: H (${H}) must be a multiple of Hkv (${Hkv})`);
  need('attention q', a.q, B * H * Tq * Dk);
  const ks = a.kHeadStride ?? Tk * Dk;
  const vs = a.vHeadStride ?? Tk * Dv;
  if (ks < Tk * Dk || vs < Tk * Dv) throw new RangeError(`attention: head strides (${ks}, ${vs}) smaller than a head (${Tk * Dk}, ${Tk * Dv})`);
  need('attention k', a.k, B * Hkv === 0 ? 0 : (B * Hkv - 1) * ks + Tk * Dk);
  need('attention v', a.v, B * Hkv === 0 ? 0 : (B * Hkv - 1) * vs + Tk * Dv);
  need('attention out', a.out, B * H * Tq * Dv);
  need('attention lse', a.lse, B * H * Tq);
}

/** The same attention with k and v laid out contiguously (copied only when they are strided). */
export function contiguousKv<A extends AttentionArgs>(a: A): A {
  const { B, Hkv, Tk, Dk, Dv } = a;
  const pack = (x: FloatArray, stride: number | undefined, D: number): FloatArray => {
    if (stride === undefined || stride === Tk * D) return x;
    const out = new (x.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(B * Hkv * Tk * D);
    for (let h = 0; h < B * Hkv; h++) out.set(x.subarray(h * stride, h * stride + Tk * D), h * Tk * D);
    return out;
  };
  return { ...a, k: pack(a.k, a.kHeadStride, Dk), v: pack(a.v, a.vHeadStride, Dv), kHeadStride: undefined, vHeadStride: undefined };
}

export function checkAttentionBackward(a: AttentionBackwardArgs): void {
  if ((a.kHeadStride ?? a.Tk * a.Dk) !== a.Tk * a.Dk || (a.vHeadStride ?? a.Tk * a.Dv) !== a.Tk * a.Dv) {
    throw new RangeError('attention backward: k and v must be contiguous');
  }
  checkAttention(a);
  const { B, H, Hkv, Tq, Tk, Dk, Dv } = a;
  need('attention dOut', a.dOut, B * H * Tq * Dv);
  need('attention dq', a.dq, B * H * Tq * Dk);
  need('attention dk', a.dk, B * Hkv * Tk * Dk);
  need('attention dv', a.dv, B * Hkv * Tk * Dv);
}

export function checkRows(name: string, arrays: FloatArray[], n: number): void {
  for (const arr of arrays) need(name, arr, n);
}

/** Index of the last key query `i` may see (−1 when none): causal alignment puts the queries last. */
export function lastVisibleKey(i: number, Tq: number, Tk: number, causal: boolean): number {
  return causal ? Math.min(Tk - 1, i + Tk - Tq) : Tk - 1;
}
