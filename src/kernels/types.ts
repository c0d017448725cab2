/**
 * The kernel interface: every hot loop of the engine, on raw typed arrays (row-major, offsets and
 * leading dimensions in elements). Kernels know nothing of tensors or autograd. Two implementations
 * stand behind it: `reference/` (plain TypeScript, the oracle) and `wasm/` (SIMD + worker threads).
 * Tests hold the fast one to the reference.
 */

/** f32 or f64 buffers; the reference accepts both, fast paths take f32 and defer f64 to the reference. */
export type FloatArray = Float32Array | Float64Array;

/** C = alpha·op(A)·op(B) + beta·C, with op(A) of shape M×K and op(B) of shape K×N. */
export interface GemmArgs {
  M: number;
  N: number;
  K: number;
  /** A is stored K×M (so op(A) = Aᵀ) when true, else M×K. */
  transA: boolean;
  /** B is stored N×K (so op(B) = Bᵀ) when true, else K×N. */
  transB: boolean;
  alpha: number;
  beta: number;
  A: FloatArray;
  aOffset: number;
  lda: number;
  B: FloatArray;
  bOffset: number;
  ldb: number;
  C: FloatArray;
  cOffset: number;
  ldc: number;
}

/** How a low-precision weight is stored; `scaleInv` multiplies the decoded value. */
export type QuantWeight =
  | { kind: 'bf16'; data: Uint16Array }
  | { kind: 'f16'; data: Uint16Array }
  /** fp8 with one f32 scale per blockRows×blockCols block (DeepSeek-V3: 128×128), row-major over blocks. */
  | { kind: 'e4m3' | 'e5m2'; data: Uint8Array; scaleInv: Float32Array; blockRows: number; blockCols: number }
  /**
   * int8 with one f32 scale per 1×blockCols block of a row (blockCols absent: one per row; 32 is
   * llama.cpp's Q8_0 granularity). With 32-wide blocks — and for int4 — the activations are rounded to
   * int8 per 32-block too (scale amax/127, half to even) and each block's product is taken in integers,
   * as llama.cpp's Q8_0 / Q4_0 dot products do: a quarter of the instructions of decoding every weight
   * to f32, for a rounding of the activations (relative error ≤ 1/254 of each block's largest value).
   */
  | { kind: 'i8'; data: Int8Array; scaleInv: Float32Array; blockCols?: number }
  /**
   * int4 in 1×32 blocks (as llama.cpp's Q4_0), one f32 scale each: a block is 16 bytes, byte i holding
   * element i (low nibble) and element i + 16 (high nibble), each as code + 8. K must be a multiple of 32.
   */
  | { kind: 'i4'; data: Uint8Array; scaleInv: Float32Array };

/** Width of an int4 block, and of the int8 blocks `--quantize q8` makes. */
export const QUANT_BLOCK = 32;

/**
 * Y[M×N] = X[M×K] · Wᵀ for a weight W of shape N×K (HF's Linear layout) kept in its stored dtype
 * and dequantised on the fly. M is small in decoding (1..batch), so this is bandwidth-bound.
 */
export interface QuantMatmulArgs {
  M: number;
  N: number;
  K: number;
  X: Float32Array;
  xOffset: number;
  W: QuantWeight;
  Y: Float32Array;
  yOffset: number;
}

/**
 * Scaled-dot-product attention over [B, H, T, D] blocks (contiguous), with grouped KV heads
 * (H % Hkv === 0; head h reads kv head h / (H / Hkv)). Causal: query i (0-based within Tq) sees keys
 * 0 .. i + (Tk − Tq), so decoding with a cache works with Tq < Tk. Never materialises Tq×Tk:
 * tiles of keys with an online softmax. Writes `lse` (log-sum-exp of the scaled scores per query)
 * for the backward pass.
 */
export interface AttentionArgs {
  B: number;
  H: number;
  Hkv: number;
  Tq: number;
  Tk: number;
  Dk: number;
  Dv: number;
  scale: number;
  causal: boolean;
  q: FloatArray; // [B, H, Tq, Dk]
  k: FloatArray; // [B, Hkv, Tk, Dk]
  v: FloatArray; // [B, Hkv, Tk, Dv]
  /**
   * Elements from one KV head's keys / values to the next (default Tk·Dk / Tk·Dv, contiguous). A
   * decoding cache keeps room to grow after each head, so its keys are read in place with a larger stride.
   * The backward pass takes contiguous k, v only.
   */
  kHeadStride?: number;
  vHeadStride?: number;
  /**
   * Elements from one key / value row to the next (default Dk / Dv). MLA's values are the first
   * kv_lora_rank entries of each cached [latent | rope key] row, read in place with the row's stride.
   */
  kRowStride?: number;
  vRowStride?: number;
  out: FloatArray; // [B, H, Tq, Dv]
  lse: FloatArray; // [B, H, Tq]
}

/** Gradients of attention from dOut, recomputing probabilities from `lse` (flash-attention style). */
export interface AttentionBackwardArgs extends AttentionArgs {
  dOut: FloatArray; // [B, H, Tq, Dv]
  dq: FloatArray; // [B, H, Tq, Dk], overwritten
  dk: FloatArray; // [B, Hkv, Tk, Dk], overwritten
  dv: FloatArray; // [B, Hkv, Tk, Dv], overwritten
}

/**
 * Weight quantisation schemes: `q8` int8 in 1×32 blocks (llama.cpp's Q8_0 granularity), `q4` int4 in
 * 1×32 blocks (Q4_0), `fp8` e4m3 in 128×128 blocks (DeepSeek-V3's released format). Each block has one
 * f32 scale; value = code · scale.
 */
export type QuantScheme = 'q8' | 'q4' | 'fp8';

/** A float weight [N, K] to quantise: f32, or bf16 / f16 bits. */
export type FloatWeight = { kind: 'f32'; data: Float32Array } | { kind: 'bf16' | 'f16'; data: Uint16Array };

export interface Kernels {
  readonly name: string;
  /** Quantises W [N, K] into fresh arrays (q4 needs K % 32 == 0). */
  quantize(W: FloatWeight, N: number, K: number, scheme: QuantScheme): QuantWeight;
  gemm(a: GemmArgs): void;
  quantMatmul(a: QuantMatmulArgs): void;
  /** out[r, :] = x[r, :] / rms(x[r, :]) · weight; writes rstd[r] = 1/rms when given (for backward). */
  rmsNorm(x: FloatArray, weight: FloatArray, out: FloatArray, rows: number, dim: number, eps: number, rstd?: FloatArray): void;
  /** out = silu(gate) · up, elementwise over n values (the SwiGLU of every DeepSeek MLP). */
  siluMul(gate: FloatArray, up: FloatArray, out: FloatArray, n: number): void;
  /** Row-wise softmax of a rows×cols matrix. */
  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void;
  /**
   * Fused softmax cross-entropy over rows×vocab logits: returns the summed loss over rows whose
   * target ≠ ignoreIndex and the count of such rows; if `dLogits` is given, writes
   * (softmax − onehot) · gradScale there (zero rows for ignored targets).
   */
  crossEntropy(
    logits: FloatArray,
    targets: Int32Array,
    rows: number,
    vocab: number,
    ignoreIndex: number,
    dLogits?: FloatArray,
    gradScale?: number,
  ): { loss: number; count: number };
  attention(a: AttentionArgs): void;
  attentionBackward(a: AttentionBackwardArgs): void;
}
