// Scalar decoding of stored weights: the portable path, and the packing step of the GEMM.
#include <cmath>
#include <algorithm>
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
    case F16: {
      const uint16_t* p = static_cast<const uint16_t*>(w.data) + base;
      for (int64_t i = 0; i < len; i++) out[i] = f16(p[i]);
      return;
    }
    case I8:
    case E4M3:
    case E5M2: {
      // Block by block: one scale lookup per block, codes through a 256-entry table.
      static float e4m3Table[256], e5m2Table[256];
      static const bool ready = [] {
        for (int c = 0; c < 256; c++) e4m3Table[c] = e4m3(uint8_t(c)), e5m2Table[c] = e5m2(uint8_t(c));
        return true;
      }();
      (void)ready;
      const uint8_t* p = static_cast<const uint8_t*>(w.data) + base;
      const int64_t nb = w.blocksPerRow(), srow = (n / w.blockRows) * nb;
      for (int64_t i = 0; i < len;) {
        const int64_t k = k0 + i, b = k / w.blockCols, end = std::min(len, (b + 1) * w.blockCols - k0);
        const float s = w.scales[srow + b];
        if (w.kind == I8) for (; i < end; i++) out[i] = float(int8_t(p[i])) * s;
        else if (w.kind == E4M3) for (; i < end; i++) out[i] = e4m3Table[p[i]] * s;
        else for (; i < end; i++) out[i] = e5m2Table[p[i]] * s;
      }
      return;
    }
    case I4: {
      // Whole 32-wide blocks where the range allows, element by element at its ragged ends.
      const uint8_t* row = static_cast<const uint8_t*>(w.data) + n * (w.K / 2);
      int64_t i = 0;
      for (; i < len && (k0 + i) % I4_BLOCK != 0; i++) out[i] = decodeOne(w, n, k0 + i);
      for (; i + I4_BLOCK <= len; i += I4_BLOCK) {
        const int64_t b = (k0 + i) / I4_BLOCK;
        const uint8_t* q = row + b * 16;
        const float s = w.scales[n * (w.K / I4_BLOCK) + b];
        for (int j = 0; j < 16; j++) {
          out[i + j] = float((q[j] & 15) - 8) * s;
          out[i + 16 + j] = float((q[j] >> 4) - 8) * s;
        }
      }
      for (; i < len; i++) out[i] = decodeOne(w, n, k0 + i);
      return;
    }
  }
}

}  // namespace dsts
