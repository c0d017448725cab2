/** GEMM (packed, or unpacked for M ≤ 4) and quantised matmul (mat-vec for M ≤ 4, else GEMM). */
import type { GemmArgs, Kernels, QuantMatmulArgs } from '../../types.ts';
import { referenceKernels as ref } from '../../reference/index.ts';
import { checkQuantWeight } from '../../reference/quant-matmul.ts';
import { checkGemm } from '../../checks.ts';
import { withFrame, type Frame, type Mat } from '../frame.ts';
import { JOB, WKIND } from '../layout.ts';
import { isF32, PAR_ELEMS, PAR_FLOPS, type Ctx, type TileLimits } from './context.ts';

/** At most this many rows of A take the unpacked (mat-vec style) path. */
const SKINNY_M = 4;

const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/**
 * Tile sizes for the packed GEMM: as few C tiles as the packed-B scratch allows (TN ≤ TN_MAX),
 * split (rows first, down to 64) until every thread has one tile — two for large products, so
 * a thread slowed by another process can hand work over — and the count divides evenly among
 * the threads; tiles of a split are balanced so no thin tile pays a full tile's packing.
 */
export function gemmTiles(M: number, N: number, K: number, threads: number, { MR, NR, TN_MAX }: TileLimits): { TM: number; TN: number } {
  let nN = Math.ceil(N / TN_MAX);
  let nM = 1;
  const want = threads * (2 * M * N * K >= 256e6 ? 2 : 1);
  while (nM * nN < want || (nM * nN) % threads !== 0) {
    if (M / (nM + 1) >= 64) nM++;
    else if (N / (nN + 1) >= 64) nN++;
    else break;
  }
  return { TM: roundUp(Math.ceil(M / nM), MR), TN: roundUp(Math.ceil(N / nN), NR) };
}

/** Byte address and encoding of a weight operand of the packed GEMM. */
interface WeightOperand {
  kind: number;
  ptr: number;
  ld: number;
  trans: boolean;
  scales: number;
  blockRows: number;
  blockCols: number;
  /** Codes in row tiles (assembly/tiles.ts) rather than row-major. */
  tiled: boolean;
}

export function matmulOps({ rt, residency, limits }: Ctx): Pick<Kernels, 'gemm' | 'quantMatmul'> {
  /** C[M×N] (at cPtr, ldc) = alpha·op(A)·op(B) + beta·C, all already in kernel memory. */
  function packedGemm(
    M: number,
    N: number,
    K: number,
    transA: boolean,
    a: Mat,
    b: WeightOperand,
    c: Mat,
    alpha: number,
    beta: number,
  ): void {
    const { TM, TN } = gemmTiles(M, N, K, rt.threads, limits);
    const tilesN = Math.ceil(N / TN);
    const total = Math.ceil(M / TM) * tilesN;
    rt.dispatch(JOB.GEMM, total, 2 * M * N * K >= PAR_FLOPS, (i, f) => {
      i.set([
        M,
        N,
        K,
        +transA,
        +b.trans,
        a.ptr,
        a.ld,
        b.ptr,
        b.ld,
        c.ptr,
        c.ld,
        TM,
        TN,
        tilesN,
        b.kind,
        b.scales,
        b.blockRows,
        b.blockCols,
        +b.tiled,
      ]);
      f[0] = alpha;
      f[1] = beta;
    });
  }

  function skinnyGemm(
    fr: Frame,
    M: number,
    N: number,
    K: number,
    transA: boolean,
    transB: boolean,
    a: Mat,
    b: Mat,
    c: Mat,
    alpha: number,
    beta: number,
  ): void {
    const ac = fr.temp(M * K * 4);
    rt.exports.compactA(a.ptr, a.ld, +transA, M, K, alpha, ac);
    const per = transB ? 64 : 256;
    rt.dispatch(JOB.SKINNY, Math.ceil(N / per), 2 * M * N * K >= PAR_FLOPS, (i, f) => {
      i.set([M, N, K, +transB, ac, b.ptr, b.ld, c.ptr, c.ld, per]);
      f[1] = beta;
    });
  }

  function gemm(g: GemmArgs): void {
    if (rt.broken || !isF32(g.A, g.B, g.C)) return ref.gemm(g);
    checkGemm(g);
    const { M, N, K, transA, transB, alpha, beta } = g;
    if (M === 0 || N === 0) return;
    if (K === 0) return scaleC(g);
    withFrame(rt, (fr) => {
      const a = transA ? fr.inMat(g.A as Float32Array, g.aOffset, K, M, g.lda) : fr.inMat(g.A as Float32Array, g.aOffset, M, K, g.lda);
      const b = transB ? fr.inMat(g.B as Float32Array, g.bOffset, N, K, g.ldb) : fr.inMat(g.B as Float32Array, g.bOffset, K, N, g.ldb);
      const c = fr.outMat(g.C as Float32Array, g.cOffset, M, N, g.ldc, beta !== 0);
      if (M <= SKINNY_M) skinnyGemm(fr, M, N, K, transA, transB, a, b, c, alpha, beta);
      else
        packedGemm(
          M,
          N,
          K,
          transA,
          a,
          { kind: WKIND.f32, ptr: b.ptr, ld: b.ld, trans: transB, scales: 0, blockRows: 1, blockCols: 1, tiled: false },
          c,
          alpha,
          beta,
        );
    });
  }

  function quantMatmul(q: QuantMatmulArgs): void {
    // The WASM loops know per-row int8 only; block int8 and int4 (the native backend's) use the reference.
    if (rt.broken || q.W.kind === 'i4' || (q.W.kind === 'i8' && (q.W.blockCols ?? q.K) !== q.K)) return ref.quantMatmul(q);
    const { M, N, K, W } = q;
    checkQuantWeight(W, N, K);
    if (q.X.length < q.xOffset + M * K) throw new RangeError(`quantMatmul X: need ${q.xOffset + M * K} values`);
    if (q.Y.length < q.yOffset + M * N) throw new RangeError(`quantMatmul Y: need ${q.yOffset + M * N} values`);
    if (M === 0 || N === 0) return;
    const kind = WKIND[W.kind as keyof typeof WKIND];
    const fp8 = W.kind === 'e4m3' || W.kind === 'e5m2';
    const blockRows = fp8 ? W.blockRows : 1;
    const blockCols = fp8 ? W.blockCols : 1;
    // Row tiles wherever the SIMD mat-vec exists (fp8 needs whole 16-code chunks per scale block).
    const tiled = !fp8 || blockCols % 16 === 0;
    const codes = W.data.subarray(0, N * K);
    const layout = tiled
      ? {
          name: `tiles${kind}:${N}x${K}`,
          bytes: rt.exports.tiledBytes(kind, N, K),
          apply: (src: number, dst: number) => rt.exports.tileWeight(kind, src, N, K, dst),
        }
      : undefined;
    residency.begin();
    withFrame(rt, (fr) => {
      // Resident when possible; else (over budget) this call brings the weight in once.
      let wPtr = residency.get(codes, layout);
      if (wPtr === null) {
        wPtr = fr.inBytes(codes);
        if (layout) {
          const t = fr.temp(layout.bytes);
          layout.apply(wPtr, t);
          wPtr = t;
        }
      }
      const sPtr = fp8 || W.kind === 'i8' ? (residency.get(W.scaleInv) ?? fr.inBytes(W.scaleInv)) : 0;
      const x = fr.inVec(q.X, q.xOffset, M * K);
      const y = fr.outVec(q.Y, q.yOffset, M * N);
      if (M <= SKINNY_M) {
        const xp = fr.temp(M * (tiled ? rt.exports.paddedK(kind, K) : K) * 4);
        const pre = fp8Prescale(W.kind, blockCols, q.X, q.xOffset, M * K);
        rt.exports.prepX(kind, blockCols, x, M, K, xp, pre);
        const per = 32;
        rt.dispatch(JOB.QMV, Math.ceil(N / per), N * K >= PAR_ELEMS * 8, (i) => {
          i.set([kind, M, N, K, xp, wPtr, sPtr, blockRows, blockCols, y, N, per, +(pre !== 1)]);
        });
      } else {
        packedGemm(
          M,
          N,
          K,
          false,
          { ptr: x, ld: K },
          { kind, ptr: wPtr, ld: K, trans: true, scales: sPtr, blockRows, blockCols, tiled },
          { ptr: y, ld: N },
          1,
          0,
        );
      }
    });
  }

  return { gemm, quantMatmul };
}

/**
 * The factor 2^(127−bias) the fp8 mat-vec may fold into X (saving a multiply per code), or 1
 * when X is too large for x·2^(127−bias) to stay finite, or the path is not vectorised.
 */
function fp8Prescale(kind: string, blockCols: number, X: Float32Array, offset: number, n: number): number {
  if ((kind !== 'e4m3' && kind !== 'e5m2') || blockCols % 16 !== 0) return 1;
  let max = 0;
  for (let i = offset; i < offset + n; i++) max = Math.max(max, Math.abs(X[i]!));
  // NaN fails the test too, leaving NaN handling to the unscaled path.
  if (kind === 'e4m3') return max < 2 ** 7 ? 2 ** 120 : 1;
  return max < 2 ** 15 ? 2 ** 112 : 1;
}

/** C ← beta·C for K = 0 (no product to add). */
function scaleC(g: GemmArgs): void {
  for (let m = 0; m < g.M; m++) {
    for (let n = 0; n < g.N; n++) {
      const i = g.cOffset + m * g.ldc + n;
      g.C[i] = g.beta === 0 ? 0 : g.beta * g.C[i]!;
    }
  }
}
