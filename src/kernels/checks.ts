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
  const kr = a.kRowStride ?? Dk;
  const vr = a.vRowStride ?? Dv;
  const ks = a.kHeadStride ?? Tk * kr;
  const vs = a.vHeadStride ?? Tk * vr;
  if (kr < Dk || vr < Dv) throw new RangeError(`attention: row strides (${kr}, ${vr}) smaller than a row (${Dk}, ${Dv})`);
  const kHead = Tk === 0 ? 0 : (Tk - 1) * kr + Dk;
  const vHead = Tk === 0 ? 0 : (Tk - 1) * vr + Dv;
  if (ks < kHead || vs < vHead) throw new RangeError(`attention: head strides (${ks}, ${vs}) smaller than a head (${kHead}, ${vHead})`);
  need('attention k', a.k, B * Hkv === 0 ? 0 : (B * Hkv - 1) * ks + kHead);
  need('attention v', a.v, B * Hkv === 0 ? 0 : (B * Hkv - 1) * vs + vHead);
  need('attention out', a.out, B * H * Tq * Dv);
  need('attention lse', a.lse, B * H * Tq);
}

/** The same attention with k and v laid out contiguously (copied only when they are strided). */
export function contiguousKv<A extends AttentionArgs>(a: A): A {
  const { B, Hkv, Tk, Dk, Dv } = a;
  const pack = (x: FloatArray, head: number | undefined, row: number | undefined, D: number): FloatArray => {
    const r = row ?? D;
    const h0 = head ?? Tk * r;
    if (r === D && h0 === Tk * D) return x;
    const out = new (x.constructor as Float32ArrayConstructor | Float64ArrayConstructor)(B * Hkv * Tk * D);
    for (let h = 0; h < B * Hkv; h++)
      for (let t = 0; t < Tk; t++) out.set(x.subarray(h * h0 + t * r, h * h0 + t * r + D), (h * Tk + t) * D);
    return out;
  };
  return {
    ...a,
    k: pack(a.k, a.kHeadStride, a.kRowStride, Dk),
    v: pack(a.v, a.vHeadStride, a.vRowStride, Dv),
    kHeadStride: undefined,
    vHeadStride: undefined,
    kRowStride: undefined,
    vRowStride: undefined,
  };
}

export function checkAttentionBackward(a: AttentionBackwardArgs): void {
  const strided = (h: number | undefined, r: number | undefined, D: number) => (r ?? D) !== D || (h ?? a.Tk * D) !== a.Tk * D;
  if (strided(a.kHeadStride, a.kRowStride, a.Dk) || strided(a.vHeadStride, a.vRowStride, a.Dv)) {
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
