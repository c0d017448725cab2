// One set of hot loops per instruction set; `pickIsa()` chooses at run time from what the CPU has.
#pragma once
#include "weight.h"

namespace dsts {

struct Isa {
  const char* name;
  // Y[m·ldy + n] = Σ_k X[m·ldx + k] · W[n, k] for m < M, n in [n0, n1): the decode mat-vec.
  void (*matvecRows)(const Weight& w, const float* X, int64_t ldx, int64_t M, float* Y, int64_t ldy, int64_t n0, int64_t n1);
  // The same product for int8 (1×32 blocks) and int4 weights against activations already rounded to
  // int8 per 32-block (Xq [M × Kp], Kp = K rounded up to 32, zero padded; Xd their scales [M × Kp/32]):
  // integer dot products per block, scaled by both blocks' scales.
  void (*matvecQ)(const Weight& w, const int8_t* Xq, const float* Xd, int64_t M, float* Y, int64_t ldy, int64_t n0, int64_t n1);
  // C[6×16] (leading dimension ldc, rows/cols limited to mr×nr) += Ap[kc×6] · Bp[kc×16] (packed panels).
  void (*micro)(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int64_t mr, int64_t nr);
  // Σ x[i]·y[i], and y += a·x: attention's per-key steps.
  float (*dot)(const float* x, const float* y, int64_t n);
  void (*axpy)(float a, const float* x, float* y, int64_t n);
};

constexpr int64_t MR = 6;
constexpr int64_t QBLOCK = 32;  // activation blocks of the int8 / int4 products
constexpr int64_t NR = 16;

const Isa& genericIsa();
const Isa* avx2Isa();  // null when not compiled in
const Isa& pickIsa();
bool selectIsa(const char* name);  // "generic" or "avx2"; false when unavailable

}  // namespace dsts
