// Scalar decoding of stored weights: the portable path, and the packing step of the GEMM.
#include <cmath>
#include <cstring>
#include "weight.h"

namespace dsts {

static inline float bf16(uint16_t b) {
  uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

static float f16(uint16_t h) {
  const uint32_t s = uint32_t(h >> 15) << 31;
  const int e = (h >> 10) & 0x1f;
  const uint32_t m = h & 0x3ff;
  if (e == 0x1f) {
    uint32_t u = s | 0x7f800000u | (m << 13);
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  const float mag = e == 0 ? std::ldexp(float(m), -24) : std::ldexp(float(m | 0x400), e - 25);
  return s ? -mag : mag;
}

static float e4m3(uint8_t b) {
  const int e = (b >> 3) & 0xf, m = b & 7;
  float mag;
  if (e == 0xf && m == 7) mag = NAN;
  else mag = e == 0 ? std::ldexp(float(m), -9) : std::ldexp(float(8 + m), e - 10);
  return (b & 0x80) ? -mag : mag;
}

static float e5m2(uint8_t b) { return f16(uint16_t(b) << 8); }

float decodeOne(const Weight& w, int64_t n, int64_t k) {
  const int64_t i = n * w.ld + k;
  switch (w.kind) {
    case F32: return static_cast<const float*>(w.data)[i];
    case BF16: return bf16(static_cast<const uint16_t*>(w.data)[i]);
    case F16: return f16(static_cast<const uint16_t*>(w.data)[i]);
    case E4M3: return e4m3(static_cast<const uint8_t*>(w.data)[i]) * w.scale(n, k / w.blockCols);
    case E5M2: return e5m2(static_cast<const uint8_t*>(w.data)[i]) * w.scale(n, k / w.blockCols);
    case I8: return float(static_cast<const int8_t*>(w.data)[i]) * w.scale(n, k / w.blockCols);
    case I4: {
      const uint8_t* row = static_cast<const uint8_t*>(w.data) + n * (w.K / 2);
      const int64_t b = k / I4_BLOCK, j = k % I4_BLOCK;
      const uint8_t byte = row[b * 16 + (j & 15)];
      const int code = (j < 16 ? byte & 15 : byte >> 4) - 8;
      return float(code) * w.scale(n, b);
    }
  }
  return NAN;
}

void decodeRow(const Weight& w, int64_t n, int64_t k0, int64_t len, float* out) {
  const int64_t base = n * w.ld + k0;
  switch (w.kind) {
    case F32:
      std::memcpy(out, static_cast<const float*>(w.data) + base, len * 4);
      return;
    case BF16: {
      const uint16_t* p = static_cast<const uint16_t*>(w.data) + base;
      for (int64_t i = 0; i < len; i++) out[i] = bf16(p[i]);
      return;
    }
    case I8: {
      const int8_t* p = static_cast<const int8_t*>(w.data) + base;
      for (int64_t i = 0; i < len; i++) out[i] = float(p[i]) * w.scale(n, (k0 + i) / w.blockCols);
      return;
    }
    default:
      for (int64_t i = 0; i < len; i++) out[i] = decodeOne(w, n, k0 + i);
  }
}

}  // namespace dsts
