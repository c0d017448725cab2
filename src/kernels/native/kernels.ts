/**
 * The native kernel set: GEMM and quantised matmul in C++ (AVX2/FMA/F16C when the CPU has them,
 * portable loops otherwise; OpenMP threads), reading weights where they lie — a typed array in the JS
 * heap or a memory-mapped checkpoint — with no copy into a separate kernel memory, so a model is
 * limited by RAM only. The other hot loops come from `base` (the WASM set, or the reference).
 */
import {
  QUANT_BLOCK,
  type AttentionArgs,
  type FloatArray,
  type FloatWeight,
  type GemmArgs,
  type Kernels,
  type QuantMatmulArgs,
  type QuantScheme,
  type QuantWeight,
} from '../types.ts';
import { checkQuantWeight } from '../reference/quant-matmul.ts';
import { referenceKernels as ref } from '../reference/index.ts';
import { checkAttention, checkGemm } from '../checks.ts';
import { NATIVE_KIND, type NativeAddon } from './addon.ts';

/** Blocks of a quantised weight as the addon takes them: [scales, blockRows, blockCols]. */
function blocks(W: QuantWeight, K: number): [Float32Array | null, number, number] {
  switch (W.kind) {
    case 'e4m3':
    case 'e5m2':
      return [W.scaleInv, W.blockRows, W.blockCols];
    case 'i8':
      return [W.scaleInv, 1, W.blockCols ?? K];
    case 'i4':
      return [W.scaleInv, 1, 32];
    default:
      return [null, 1, 1];
  }
}

export interface NativeOptions {
  /** Force the portable loops ('generic') or the SIMD ones ('avx2') for the calls of this set. */
  isa?: string;
  threads?: number;
}

export function createNativeKernels(addon: NativeAddon, base: Kernels, opts: NativeOptions = {}): Kernels {
  // A set with its own ISA or thread count switches the addon's (global) setting around each call.
  const scoped = opts.isa !== undefined || opts.threads !== undefined;
  const defaults = addon.info();
  function within(body: () => void): void {
    if (!scoped) return body();
    if (opts.isa && !addon.useIsa(opts.isa)) throw new Error(`native ISA '${opts.isa}' is not available on this CPU`);
    if (opts.threads) addon.setThreads(opts.threads);
    try {
      body();
    } finally {
      addon.useIsa(defaults.isa);
      addon.setThreads(defaults.threads);
    }
  }

  function gemm(g: GemmArgs): void {
    if (!(g.A instanceof Float32Array && g.B instanceof Float32Array && g.C instanceof Float32Array)) return ref.gemm(g);
    checkGemm(g);
    within(() =>
      addon.gemm(
        g.M,
        g.N,
        g.K,
        g.transA,
        g.transB,
        g.alpha,
        g.beta,
        g.A as Float32Array,
        g.aOffset,
        g.lda,
        g.B as Float32Array,
        g.bOffset,
        g.ldb,
        g.C as Float32Array,
        g.cOffset,
        g.ldc,
      ),
    );
  }

  function quantMatmul(q: QuantMatmulArgs): void {
    const { M, N, K, W } = q;
    checkQuantWeight(W, N, K);
    if (q.X.length < q.xOffset + M * K) throw new RangeError(`quantMatmul X: need ${q.xOffset + M * K} values`);
    if (q.Y.length < q.yOffset + M * N) throw new RangeError(`quantMatmul Y: need ${q.yOffset + M * N} values`);
    if (M === 0 || N === 0) return;
    const [S, br, bc] = blocks(W, K);
    within(() => addon.qmatmul(NATIVE_KIND[W.kind], M, N, K, q.X, q.xOffset, W.data, S, br, bc, q.Y, q.yOffset));
  }

  function quantize(W: FloatWeight, N: number, K: number, scheme: QuantScheme): QuantWeight {
    if (W.data.length < N * K) throw new RangeError(`quantize: weight has ${W.data.length} values, need ${N}×${K}`);
    if (scheme === 'q4' && K % QUANT_BLOCK !== 0) throw new RangeError(`q4 needs K % ${QUANT_BLOCK} == 0, got K = ${K}`);
    const src = NATIVE_KIND[W.kind];
    if (scheme === 'fp8') {
      const data = new Uint8Array(N * K),
        scaleInv = new Float32Array(Math.ceil(N / 128) * Math.ceil(K / 128));
      within(() => addon.quantize(NATIVE_KIND.e4m3, src, W.data, N, K, 128, 128, data, scaleInv));
      return { kind: 'e4m3', data, scaleInv, blockRows: 128, blockCols: 128 };
    }
    if (scheme === 'q8') {
      const data = new Int8Array(N * K),
        scaleInv = new Float32Array(N * Math.ceil(K / QUANT_BLOCK));
      within(() => addon.quantize(NATIVE_KIND.i8, src, W.data, N, K, 1, QUANT_BLOCK, data, scaleInv));
      return { kind: 'i8', data, scaleInv, blockCols: QUANT_BLOCK };
    }
    const data = new Uint8Array((N * K) / 2),
      scaleInv = new Float32Array((N * K) / QUANT_BLOCK);
    within(() => addon.quantize(NATIVE_KIND.i4, src, W.data, N, K, 1, QUANT_BLOCK, data, scaleInv));
    return { kind: 'i4', data, scaleInv };
  }

  function attention(a: AttentionArgs): void {
    const f32 = [a.q, a.k, a.v, a.out, a.lse].every((x) => x instanceof Float32Array);
    if (!f32) return base.attention(a);
    checkAttention(a);
    const { B, H, Hkv, Tq, Tk, Dk, Dv } = a;
    const kr = a.kRowStride ?? Dk;
    const vr = a.vRowStride ?? Dv;
    within(() =>
      addon.attention(
        B,
        H,
        Hkv,
        Tq,
        Tk,
        Dk,
        Dv,
        a.scale,
        a.causal,
        a.q as Float32Array,
        a.k as Float32Array,
        a.kHeadStride ?? Tk * kr,
        kr,
        a.v as Float32Array,
        a.vHeadStride ?? Tk * vr,
        vr,
        a.out as Float32Array,
        a.lse as Float32Array,
      ),
    );
  }

  const f32 = (...xs: (FloatArray | undefined)[]) => xs.every((x) => x === undefined || x instanceof Float32Array);
  const rmsNorm: Kernels['rmsNorm'] = (x, w, out, rows, dim, eps, rstd) => {
    if (!f32(x, w, out, rstd)) return base.rmsNorm(x, w, out, rows, dim, eps, rstd);
    within(() =>
      addon.rmsNorm(x as Float32Array, w as Float32Array, out as Float32Array, rows, dim, eps, (rstd as Float32Array | undefined) ?? null),
    );
  };
  const siluMul: Kernels['siluMul'] = (gate, up, out, n) => {
    if (!f32(gate, up, out)) return base.siluMul(gate, up, out, n);
    within(() => addon.siluMul(gate as Float32Array, up as Float32Array, out as Float32Array, n));
  };
  const softmax: Kernels['softmax'] = (x, out, rows, cols) => {
    if (!f32(x, out)) return base.softmax(x, out, rows, cols);
    within(() => addon.softmax(x as Float32Array, out as Float32Array, rows, cols));
  };

  return {
    ...base,
    name: `native-${opts.isa ?? defaults.isa}+${base.name}`,
    gemm,
    quantMatmul,
    quantize,
    attention,
    rmsNorm,
    siluMul,
    softmax,
  };
}
