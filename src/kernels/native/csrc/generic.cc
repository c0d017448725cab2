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
  static const Isa isa{"generic", matvecRows, micro, dot, axpy};
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
