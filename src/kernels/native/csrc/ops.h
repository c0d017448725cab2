// The native operations the addon exposes, on raw pointers (threads: OpenMP).
#pragma once
#include "weight.h"

namespace dsts {

// Y[M×N] (row stride ldy) = X[M×K] (row stride ldx) · Wᵀ.
void qmatmul(const Weight& w, const float* X, int64_t ldx, int64_t M, float* Y, int64_t ldy);

// C = alpha·op(A)·op(B) + beta·C with f32 operands (op = transpose when the flag is set).
void gemmF32(int64_t M, int64_t N, int64_t K, bool transA, bool transB, float alpha, float beta, const float* A, int64_t lda,
             const float* B, int64_t ldb, float* C, int64_t ldc);

// Quantises rows [0, N) of a float weight (f32 / bf16 / f16 codes in `src`) into `codes` + `scales`:
// I8 in 1×bc blocks, I4 in 1×32 blocks, E4M3 in br×bc blocks (scale_inv = amax / 448).
void quantize(int dstKind, int srcKind, const void* src, int64_t N, int64_t K, int64_t br, int64_t bc, void* codes, float* scales);

// Causal (or full) attention forward over [B, H, Tq, D] queries and KV heads [B·Hkv] spaced kStride /
// vStride elements apart (a cache keeps room to grow between heads), rows kRow / vRow apart (MLA's
// values are the leading part of each latent row): out [B, H, Tq, Dv], lse [B, H, Tq].
void attention(int64_t B, int64_t H, int64_t Hkv, int64_t Tq, int64_t Tk, int64_t Dk, int64_t Dv, float scale, bool causal,
               const float* q, const float* k, int64_t kStride, int64_t kRow, const float* v, int64_t vStride, int64_t vRow, float* out,
               float* lse);

// Σ of n floats read by every thread's share: a memory-bandwidth probe for the benchmarks' roofline.
double streamSum(const float* x, int64_t n);

// Row kernels (f32): RMSNorm (rstd optional), out = silu(gate)·up, row-wise softmax.
void rmsNorm(const float* x, const float* w, float* out, int64_t rows, int64_t dim, float eps, float* rstd);
void siluMul(const float* gate, const float* up, float* out, int64_t n);
void softmax(const float* x, float* out, int64_t rows, int64_t cols);

void setThreads(int n);
int threads();
const char* isaName();
bool useIsa(const char* name);

}  // namespace dsts
