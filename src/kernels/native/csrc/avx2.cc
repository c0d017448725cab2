// AVX2 + FMA + F16C loops (compiled with those flags; chosen only when the CPU has them).
// The mat-vec streams each weight row once and decodes it in registers: bf16 by a shift, f16 and
// fp8 through the F16C converter (e4m3's bits land in f16 position, off by 2^8, which the block
// scale absorbs), int8/int4 by widening. Accumulators are split so FMA latency never limits a stream.
#include <immintrin.h>
#include <cstring>
#include <cstdint>
#include "isa.h"

namespace dsts {
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// 8 consecutive weights of a row as f32 (fp8 unscaled, e4m3 ×2^-8).
inline __m256 ldF32(const void* p, int64_t i) { return _mm256_loadu_ps(static_cast<const float*>(p) + i); }
inline __m256 ldBF16(const void* p, int64_t i) {
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
inline __m256 ldF16(const void* p, int64_t i) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(p) + i)));
}
inline __m128i ld8(const void* p, int64_t i) { return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(static_cast<const uint8_t*>(p) + i)); }
inline __m256 ldE4M3(const void* p, int64_t i) {
  __m128i v = _mm_cvtepu8_epi16(ld8(p, i));
  __m128i h = _mm_or_si128(_mm_slli_epi16(_mm_and_si128(v, _mm_set1_epi16(0x7f)), 7), _mm_slli_epi16(_mm_and_si128(v, _mm_set1_epi16(0x80)), 8));
  return _mm256_cvtph_ps(h);
}
inline __m256 ldE5M2(const void* p, int64_t i) { return _mm256_cvtph_ps(_mm_slli_epi16(_mm_cvtepu8_epi16(ld8(p, i)), 8)); }
inline __m256 ldI8(const void* p, int64_t i) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(ld8(p, i))); }

using Loader = __m256 (*)(const void*, int64_t);

// Unscaled kinds: one running sum per (x row, unroll lane).
template <int MM, int U, Loader LD>
void rowsPlain(const Weight& w, const float* X, int64_t ldx, float* Y, int64_t ldy, int64_t n0, int64_t n1) {
  const int64_t K = w.K, step = 8 * U, kv = K / step * step;
  for (int64_t n = n0; n < n1; n++) {
    const int64_t base = n * w.ld;
    __m256 acc[MM][U];
    for (int m = 0; m < MM; m++)
      for (int u = 0; u < U; u++) acc[m][u] = _mm256_setzero_ps();
    for (int64_t k = 0; k < kv; k += step) {
      for (int u = 0; u < U; u++) {
        const __m256 wv = LD(w.data, base + k + 8 * u);
        for (int m = 0; m < MM; m++) acc[m][u] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(X + m * ldx + k + 8 * u), acc[m][u]);
      }
    }
    for (int m = 0; m < MM; m++) {
      for (int u = 1; u < U; u++) acc[m][0] = _mm256_add_ps(acc[m][0], acc[m][u]);
      float s = hsum(acc[m][0]);
      for (int64_t k = kv; k < K; k++) s += X[m * ldx + k] * decodeOne(w, n, k);
      Y[m * ldy + n] = s;
    }
  }
}

// Block-scaled kinds (fp8, int8): a sum per block, scaled into the row's total. `pre` is the factor
// the loader leaves out (2^8 for e4m3).
template <int MM, Loader LD>
void rowsBlocked(const Weight& w, const float* X, int64_t ldx, float* Y, int64_t ldy, int64_t n0, int64_t n1, float pre) {
  const int64_t K = w.K, bc = w.blockCols, nb = w.blocksPerRow();
  for (int64_t n = n0; n < n1; n++) {
    const int64_t base = n * w.ld;
    const float* srow = w.scales + (n / w.blockRows) * nb;
    __m256 acc[MM];
    float extra[MM] = {};  // ragged block ends, decoded one by one with their scale
    for (int m = 0; m < MM; m++) acc[m] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
      const int64_t k0 = b * bc, k1 = k0 + bc < K ? k0 + bc : K, kv = k0 + (k1 - k0) / 16 * 16;
      __m256 s0[MM], s1[MM];
      for (int m = 0; m < MM; m++) s0[m] = s1[m] = _mm256_setzero_ps();
      for (int64_t k = k0; k < kv; k += 16) {
        const __m256 w0 = LD(w.data, base + k), w1 = LD(w.data, base + k + 8);
        for (int m = 0; m < MM; m++) {
          s0[m] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(X + m * ldx + k), s0[m]);
          s1[m] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(X + m * ldx + k + 8), s1[m]);
        }
      }
      const __m256 sc = _mm256_set1_ps(srow[b] * pre);
      for (int m = 0; m < MM; m++) {
        acc[m] = _mm256_fmadd_ps(_mm256_add_ps(s0[m], s1[m]), sc, acc[m]);
        for (int64_t k = kv; k < k1; k++) extra[m] += X[m * ldx + k] * decodeOne(w, n, k);
      }
    }
    for (int m = 0; m < MM; m++) Y[m * ldy + n] = hsum(acc[m]) + extra[m];
  }
}

// int4, 32-wide blocks of 16 bytes (low nibbles: elements 0–15, high: 16–31).
template <int MM>
void rowsI4(const Weight& w, const float* X, int64_t ldx, float* Y, int64_t ldy, int64_t n0, int64_t n1) {
  const int64_t K = w.K, nb = K / I4_BLOCK;
  const __m128i lowMask = _mm_set1_epi8(0x0f);
  const __m256i eight = _mm256_set1_epi32(8);
  for (int64_t n = n0; n < n1; n++) {
    const uint8_t* row = static_cast<const uint8_t*>(w.data) + n * (K / 2);
    const float* srow = w.scales + n * nb;
    __m256 acc[MM];
    for (int m = 0; m < MM; m++) acc[m] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + b * 16));
      const __m128i lo = _mm_and_si128(q, lowMask), hi = _mm_and_si128(_mm_srli_epi16(q, 4), lowMask);
      const __m256 w0 = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(lo), eight));
      const __m256 w1 = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)), eight));
      const __m256 w2 = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(hi), eight));
      const __m256 w3 = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)), eight));
      const __m256 sc = _mm256_set1_ps(srow[b]);
      const int64_t k = b * I4_BLOCK;
      for (int m = 0; m < MM; m++) {
        const float* x = X + m * ldx + k;
        __m256 s = _mm256_mul_ps(w0, _mm256_loadu_ps(x));
        __m256 t = _mm256_mul_ps(w1, _mm256_loadu_ps(x + 8));
        s = _mm256_fmadd_ps(w2, _mm256_loadu_ps(x + 16), s);
        t = _mm256_fmadd_ps(w3, _mm256_loadu_ps(x + 24), t);
        acc[m] = _mm256_fmadd_ps(_mm256_add_ps(s, t), sc, acc[m]);
      }
    }
    for (int m = 0; m < MM; m++) Y[m * ldy + n] = hsum(acc[m]);
  }
}

template <int MM>
void rowsFor(const Weight& w, const float* X, int64_t ldx, float* Y, int64_t ldy, int64_t n0, int64_t n1) {
  constexpr int U = MM == 1 ? 4 : MM == 2 ? 2 : 1;
  switch (w.kind) {
    case F32: return rowsPlain<MM, U, ldF32>(w, X, ldx, Y, ldy, n0, n1);
    case BF16: return rowsPlain<MM, U, ldBF16>(w, X, ldx, Y, ldy, n0, n1);
    case F16: return rowsPlain<MM, U, ldF16>(w, X, ldx, Y, ldy, n0, n1);
    case E4M3: return rowsBlocked<MM, ldE4M3>(w, X, ldx, Y, ldy, n0, n1, 256.0f);
    case E5M2: return rowsBlocked<MM, ldE5M2>(w, X, ldx, Y, ldy, n0, n1, 1.0f);
    case I8: return rowsBlocked<MM, ldI8>(w, X, ldx, Y, ldy, n0, n1, 1.0f);
    case I4: return rowsI4<MM>(w, X, ldx, Y, ldy, n0, n1);
  }
}

void matvecRows(const Weight& w, const float* X, int64_t ldx, int64_t M, float* Y, int64_t ldy, int64_t n0, int64_t n1) {
  // Blocked kinds need whole 16-wide steps inside blocks for the fast loop (ragged ends are handled).
  for (int64_t m = 0; m < M; m += 4) {
    const int64_t mm = M - m < 4 ? M - m : 4;
    const float* x = X + m * ldx;
    float* y = Y + m * ldy;
    switch (mm) {
      case 1: rowsFor<1>(w, x, ldx, y, ldy, n0, n1); break;
      case 2: rowsFor<2>(w, x, ldx, y, ldy, n0, n1); break;
      case 3: rowsFor<3>(w, x, ldx, y, ldy, n0, n1); break;
      default: rowsFor<4>(w, x, ldx, y, ldy, n0, n1); break;
    }
  }
}

// int8 / int4 weights against int8 activations: 32 codes a block in one register; |w| (unsigned) times
// x carrying w's sign, pairwise into 16-bit (no overflow: |x| ≤ 127, |w| ≤ 128), then into 32-bit.
inline __m256 blockDot(__m256i w, const int8_t* x) {
  const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(xv, w));
  return _mm256_cvtepi32_ps(_mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
}

template <int MM, bool I4W>
void rowsQ(const Weight& w, const int8_t* Xq, const float* Xd, float* Y, int64_t ldy, int64_t n0, int64_t n1) {
  const int64_t nb = (w.K + QBLOCK - 1) / QBLOCK, Kp = nb * QBLOCK, full = w.K / QBLOCK;
  const __m128i lowMask = _mm_set1_epi8(0x0f);
  const __m256i eight = _mm256_set1_epi8(8);
  for (int64_t n = n0; n < n1; n++) {
    const float* srow = w.scales + n * nb;
    __m256 acc[MM];
    for (int m = 0; m < MM; m++) acc[m] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
      __m256i wv;
      if (I4W) {
        const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint8_t*>(w.data) + n * (w.K / 2) + b * 16));
        const __m128i lo = _mm_and_si128(q, lowMask), hi = _mm_and_si128(_mm_srli_epi16(q, 4), lowMask);
        wv = _mm256_sub_epi8(_mm256_set_m128i(hi, lo), eight);
      } else if (b < full) {
        wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const int8_t*>(w.data) + n * w.ld + b * QBLOCK));
      } else {  // ragged last block: the codes that exist, zeros after
        alignas(32) int8_t t[QBLOCK] = {};
        std::memcpy(t, static_cast<const int8_t*>(w.data) + n * w.ld + b * QBLOCK, size_t(w.K - b * QBLOCK));
        wv = _mm256_load_si256(reinterpret_cast<const __m256i*>(t));
      }
      const float ws = srow[b];
      for (int m = 0; m < MM; m++) acc[m] = _mm256_fmadd_ps(blockDot(wv, Xq + m * Kp + b * QBLOCK), _mm256_set1_ps(Xd[m * nb + b] * ws), acc[m]);
    }
    for (int m = 0; m < MM; m++) Y[m * ldy + n] = hsum(acc[m]);
  }
}

void matvecQ(const Weight& w, const int8_t* Xq, const float* Xd, int64_t M, float* Y, int64_t ldy, int64_t n0, int64_t n1) {
  const int64_t Kp = (w.K + QBLOCK - 1) / QBLOCK * QBLOCK, nb = Kp / QBLOCK;
  for (int64_t m = 0; m < M; m += 4) {
    const int64_t mm = M - m < 4 ? M - m : 4;
    const int8_t* x = Xq + m * Kp;
    const float* d = Xd + m * nb;
    float* y = Y + m * ldy;
    const bool i4 = w.kind == I4;
    switch (mm) {
      case 1: i4 ? rowsQ<1, true>(w, x, d, y, ldy, n0, n1) : rowsQ<1, false>(w, x, d, y, ldy, n0, n1); break;
      case 2: i4 ? rowsQ<2, true>(w, x, d, y, ldy, n0, n1) : rowsQ<2, false>(w, x, d, y, ldy, n0, n1); break;
      case 3: i4 ? rowsQ<3, true>(w, x, d, y, ldy, n0, n1) : rowsQ<3, false>(w, x, d, y, ldy, n0, n1); break;
      default: i4 ? rowsQ<4, true>(w, x, d, y, ldy, n0, n1) : rowsQ<4, false>(w, x, d, y, ldy, n0, n1); break;
    }
  }
}

// C[6×16] += Ap · Bp over kc: 12 accumulators, 2 B vectors and one broadcast A value in registers
// (named, not an array: GCC would keep an indexed array in memory).
void micro(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, int64_t mr, int64_t nr) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (int64_t k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_load_ps(Bp + k * NR), b1 = _mm256_load_ps(Bp + k * NR + 8);
    const float* a = Ap + k * MR;
    __m256 x = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(x, b0, c00), c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(x, b0, c10), c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(x, b0, c20), c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(x, b0, c30), c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(x, b0, c40), c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(x, b0, c50), c51 = _mm256_fmadd_ps(x, b1, c51);
  }
  const __m256 c[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; i++) {
      float* r = C + i * ldc;
      _mm256_storeu_ps(r, _mm256_add_ps(_mm256_loadu_ps(r), c[i][0]));
      _mm256_storeu_ps(r + 8, _mm256_add_ps(_mm256_loadu_ps(r + 8), c[i][1]));
    }
    return;
  }
  alignas(32) float t[MR][NR];
  for (int i = 0; i < MR; i++) {
    _mm256_store_ps(t[i], c[i][0]);
    _mm256_store_ps(t[i] + 8, c[i][1]);
  }
  for (int64_t i = 0; i < mr; i++)
    for (int64_t j = 0; j < nr; j++) C[i * ldc + j] += t[i][j];
}

float dot(const float* x, const float* y, int64_t n) {
  __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a);
    b = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), b);
  }
  float s = hsum(_mm256_add_ps(a, b));
  for (; i < n; i++) s += x[i] * y[i];
  return s;
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; i++) y[i] += a * x[i];
}

}  // namespace

const Isa* avx2Isa() {
  static const Isa isa{"avx2", matvecRows, matvecQ, micro, dot, axpy};
  return &isa;
}

}  // namespace dsts
