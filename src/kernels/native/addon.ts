/**
 * The native addon (csrc/, built by scripts/build-native.mjs): loaded synchronously on first use;
 * null, with the reason, when it is not built or cannot load here (then the WASM kernels serve).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Weight kinds as the C++ side numbers them (csrc/weight.h). */
export const NATIVE_KIND = { f32: 0, bf16: 1, f16: 2, e4m3: 3, e5m2: 4, i8: 5, i4: 6 } as const;
export type NativeKind = keyof typeof NATIVE_KIND;

/** An open memory map of a file (see csrc/mapping.h). */
export interface MappedFile {
  readonly handle: unknown;
  readonly size: number;
}

export interface NativeAddon {
  qmatmul(
    kind: number,
    M: number,
    N: number,
    K: number,
    X: Float32Array,
    xOff: number,
    W: ArrayBufferView,
    S: Float32Array | null,
    blockRows: number,
    blockCols: number,
    Y: Float32Array,
    yOff: number,
  ): void;
  attention(
    B: number,
    H: number,
    Hkv: number,
    Tq: number,
    Tk: number,
    Dk: number,
    Dv: number,
    scale: number,
    causal: boolean,
    q: Float32Array,
    k: Float32Array,
    kStride: number,
    kRow: number,
    v: Float32Array,
    vStride: number,
    vRow: number,
    out: Float32Array,
    lse: Float32Array,
  ): void;
  gemm(
    M: number,
    N: number,
    K: number,
    transA: boolean,
    transB: boolean,
    alpha: number,
    beta: number,
    A: Float32Array,
    aOff: number,
    lda: number,
    B: Float32Array,
    bOff: number,
    ldb: number,
    C: Float32Array,
    cOff: number,
    ldc: number,
  ): void;
  quantize(
    dstKind: number,
    srcKind: number,
    src: ArrayBufferView,
    N: number,
    K: number,
    blockRows: number,
    blockCols: number,
    codes: ArrayBufferView,
    scales: Float32Array,
  ): void;
  mapFile(path: string): MappedFile;
  /** An ArrayBuffer over [offset, offset + length) of the mapped file, without copying. */
  mapView(handle: unknown, offset: number, length: number): ArrayBuffer;
  populate(handle: unknown, offset: number, length: number): void;
  dropPages(handle: unknown, offset: number, length: number): void;
  rmsNorm(x: Float32Array, w: Float32Array, out: Float32Array, rows: number, dim: number, eps: number, rstd: Float32Array | null): void;
  siluMul(gate: Float32Array, up: Float32Array, out: Float32Array, n: number): void;
  softmax(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** Σ x, read by all threads: a memory-bandwidth probe. */
  streamSum(x: Float32Array): number;
  setThreads(n: number): void;
  info(): { isa: string; threads: number };
  /** 'avx2' or 'generic' (the portable loops the SIMD ones are held to); false if unavailable. */
  useIsa(name: string): boolean;
}

const ADDON = fileURLToPath(new URL('./build/Release/dsts_native.node', import.meta.url));

let addon: NativeAddon | null = null;
let failure: string | null = null;

/** The addon, or null when DSTS_KERNELS asks for another backend or it cannot load (`nativeFailure()` says why). */
export function loadNativeAddon(): NativeAddon | null {
  if (addon || failure) return addon;
  const want = process.env.DSTS_KERNELS;
  if (want === 'reference' || want === 'wasm') {
    failure = `DSTS_KERNELS=${want}`;
    return null;
  }
  if (!existsSync(ADDON)) {
    failure = 'native addon not built (run `npm run build:native`)';
    return null;
  }
  try {
    addon = createRequire(import.meta.url)(ADDON) as NativeAddon;
  } catch (e) {
    failure = (e as Error).message.split('\n')[0]!;
  }
  return addon;
}

export function nativeFailure(): string | null {
  return failure;
}
