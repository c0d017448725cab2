// Portable loops (any CPU): decode a row, then multiply. The reference that the SIMD paths match.
#include <string>
#include <vector>
#include "isa.h"

namespace dsts {

static void matvecRows(const Weight& w, const float* X, int64_t ldx, int64_t M, float* Y, int64_t ldy, int64_t n0, int64_t n1) {
  std::vector<float> row(w.K);
  for (int64_t n = n0; n < n1; n++) {
    decodeRow(w, n, 0, w.K, row.data());
    for (int64_t m = 0; m < M; m++) {
      const float* x = X + m * ldx;
      double acc = 0;
      for (int64_t k = 0; k < w.K; k++) acc += double(x[k]) * row[k];
      Y[m * ldy + n] = float(acc);
    }
  }
}

// Block b of row n of an int8 / int4 weight as int8 codes (a ragged last block is zero padded).
static void weightCodes(const Weight& w, int64_t n, int64_t b, int8_t* out) {
  for (int64_t j = 0; j < QBLOCK; j++) {
    const int64_t k = b * QBLOCK + j;
    if (k >= w.K) {
      out[j] = 0;
    } else if (w.kind == I8) {
      out[j] = static_cast<const int8_t*>(w.data)[n * w.ld + k];
    } else {
      const uint8_t byte = static_cast<const uint8_t*>(w.data)[n * (w.K / 2) + b * 16 + (j & 15)];
      out[j] = int8_t((j < 16 ? byte & 15 : byte >> 4) - 8);
    }
  }
}

static void matvecQ(const Weight& w, const int8_t* Xq, const float* Xd, int64_t M, float* Y, int64_t ldy, int64_t n0, int64_t n1) {
  const int64_t nb = (w.K + QBLOCK - 1) / QBLOCK, Kp = nb * QBLOCK;
  int8_t wq[QBLOCK];
  for (int64_t n = n0; n < n1; n++) {
    for (int64_t m = 0; m < M; m++) Y[m * ldy + n] = 0;
    for (int64_t b = 0; b < nb; b++) {
      weightCodes(w, n, b, wq);
      const float ws = w.scale(n, b);
      for (int64_t m = 0; m < M; m++) {
        const int8_t* x = Xq + m * Kp + b * QBLOCK;
        int32_t dot = 0;
        for (int64_t j = 0; j < QBLOCK; j++) dot += int32_t(x[j]) * wq[j];
        Y[m * ldy + n] += float(dot) * (Xd[m * nb + b] * ws);
      }
    }
  }
}

static void micro(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int64_t mr, int64_t nr) {
  float acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; k++)
    for (int64_t i = 0; i < MR; i++)
      for (int64_t j = 0; j < NR; j++) acc[i][j] += Ap[k * MR + i] * Bp[k * NR + j];
  for (int64_t i = 0; i < mr; i++)
    for (int64_t j = 0; j < nr; j++) C[i * ldc + j] += acc[i][j];
}

static float dot(const float* x, const float* y, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

static void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

const Isa& genericIsa() {
  static const Isa isa{"generic", matvecRows, matvecQ, micro, dot, axpy};
  return isa;
}

static const Isa* current = nullptr;

const Isa& pickIsa() {
  if (!current) {
    const Isa* a = avx2Isa();
    current = a && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") ? a : &genericIsa();
  }
  return *current;
}

bool selectIsa(const char* name) {
  const Isa* a = avx2Isa();
  if (std::string(name) == "generic") current = &genericIsa();
  else if (std::string(name) == "avx2" && a && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) current = a;
  else return false;
  return true;
}

}  // namespace dsts
