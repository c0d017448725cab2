// Weight quantisation at load time (and for `dsts quantize`): row blocks are independent, so rows
// are split over threads. Scales follow the "scale_inv" convention: value = code · scale.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>
#include "ops.h"
#include "pool.h"

namespace dsts {

static void loadRow(int srcKind, const void* src, int64_t n, int64_t K, float* out) {
  const Weight w{srcKind, src, nullptr, 1, 1, 0, K, K};
  decodeRow(w, n, 0, K, out);
}

// f32 → e4m3 (finite, saturating at ±448), round to nearest even.
static uint8_t toE4M3(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  const uint8_t sign = (u >> 24) & 0x80;
  const float a = std::fabs(v);
  if (!(a == a)) return sign | 0x7f;
  if (a >= 448.0f) return sign | 0x7e;
  if (a < 0.015625f) {  // below 2^-6: subnormal codes m · 2^-9
    const int m = int(std::nearbyint(a * 512.0f));
    return sign | uint8_t(m);  // m = 8 is exactly the smallest normal's code (e=1, m=0)
  }
  std::memcpy(&u, &a, 4);
  u += 0x7ffff + ((u >> 20) & 1);
  const int e = int(u >> 23) - 127 + 7;
  const int m = (u >> 20) & 7;
  if (e > 15 || (e == 15 && m == 7)) return sign | 0x7e;
  return sign | uint8_t((e << 3) | m);
}

void quantize(int dstKind, int srcKind, const void* src, int64_t N, int64_t K, int64_t br, int64_t bc, void* codes, float* scales) {
  if (dstKind == I4) bc = I4_BLOCK;
  const int64_t nb = (K + bc - 1) / bc;
  if (dstKind == E4M3) {
    // Block amax needs br rows at once: one task per row band.
    const int64_t bands = (N + br - 1) / br;
    parallelFor(bands, [&](int64_t band) {
      const int64_t r0 = band * br, r1 = std::min(N, r0 + br);
      std::vector<float> rows((r1 - r0) * K);
      for (int64_t n = r0; n < r1; n++) loadRow(srcKind, src, n, K, rows.data() + (n - r0) * K);
      for (int64_t b = 0; b < nb; b++) {
        const int64_t k0 = b * bc, k1 = std::min(K, k0 + bc);
        float amax = 0;
        for (int64_t n = r0; n < r1; n++)
          for (int64_t k = k0; k < k1; k++) amax = std::max(amax, std::fabs(rows[(n - r0) * K + k]));
        const float s = amax > 0 ? amax / 448.0f : 1.0f;
        scales[band * nb + b] = s;
        const float inv = 1.0f / s;
        for (int64_t n = r0; n < r1; n++)
          for (int64_t k = k0; k < k1; k++) static_cast<uint8_t*>(codes)[n * K + k] = toE4M3(rows[(n - r0) * K + k] * inv);
      }
    });
    return;
  }
  const int64_t per = 16;
  parallelFor((N + per - 1) / per, [&](int64_t task) {
    std::vector<float> row(K);
    for (int64_t n = task * per; n < std::min(N, (task + 1) * per); n++) {
      loadRow(srcKind, src, n, K, row.data());
      for (int64_t b = 0; b < nb; b++) {
        const int64_t k0 = b * bc, k1 = std::min(K, k0 + bc);
        if (dstKind == I8) {
          float amax = 0;
          for (int64_t k = k0; k < k1; k++) amax = std::max(amax, std::fabs(row[k]));
          const float d = amax / 127.0f, inv = d > 0 ? 1.0f / d : 0.0f;
          scales[n * nb + b] = d;
          int8_t* q = static_cast<int8_t*>(codes) + n * K;
          for (int64_t k = k0; k < k1; k++) q[k] = int8_t(std::nearbyint(row[k] * inv));
        } else {  // I4 as llama.cpp's Q4_0: the value of largest magnitude maps to code −8 exactly
          float mx = 0;
          for (int64_t k = k0; k < k1; k++)
            if (std::fabs(row[k]) > std::fabs(mx)) mx = row[k];
          const float d = mx / -8.0f, inv = d != 0 ? 1.0f / d : 0.0f;
          scales[n * nb + b] = d;
          uint8_t* q = static_cast<uint8_t*>(codes) + n * (K / 2) + b * 16;
          for (int64_t j = 0; j < 16; j++) {
            const int lo = std::clamp(int(std::nearbyint(row[k0 + j] * inv)) + 8, 0, 15);
            const int hi = std::clamp(int(std::nearbyint(row[k0 + 16 + j] * inv)) + 8, 0, 15);
            q[j] = uint8_t(lo | (hi << 4));
          }
        }
      }
    }
  });
}

}  // namespace dsts
