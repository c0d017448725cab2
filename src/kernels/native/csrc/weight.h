// The one description of a weight matrix W [N, K] (HF Linear layout) that every native kernel reads,
// in whatever form it is stored: f32, bf16, f16, fp8 with block scales (DeepSeek-V3), int8 with block
// scales (per row, or 32-wide as llama.cpp's Q8_0) or int4 in 32-wide blocks (as Q4_0).
#pragma once
#include <cstddef>
#include <cstdint>

namespace dsts {

enum Kind : int { F32 = 0, BF16 = 1, F16 = 2, E4M3 = 3, E5M2 = 4, I8 = 5, I4 = 6 };

struct Weight {
  int kind;
  const void* data;      // codes, row-major N×K (I4: N rows of K/2 bytes, see below)
  const float* scales;   // fp8/int: one per blockRows×blockCols block, row-major over blocks; else null
  int64_t blockRows;
  int64_t blockCols;
  int64_t N;
  int64_t K;
  int64_t ld;  // elements between rows (K when contiguous; I4 rows are always K/2 bytes)

  int64_t blocksPerRow() const { return (K + blockCols - 1) / blockCols; }
  float scale(int64_t n, int64_t kb) const { return scales[(n / blockRows) * blocksPerRow() + kb]; }
};

// I4 layout: each 32-wide block is 16 bytes; byte i holds element i in its low nibble and element
// i + 16 in its high nibble, both offset by 8 (codes 0..15 stand for −8..7). One SIMD load then gives
// two runs of 16 consecutive elements, so the mat-vec needs no shuffles.
constexpr int64_t I4_BLOCK = 32;

// Row n, columns [k0, k0 + len), decoded to f32 with scales applied (len within one row).
void decodeRow(const Weight& w, int64_t n, int64_t k0, int64_t len, float* out);

// Element value (slow; used by tests and edges).
float decodeOne(const Weight& w, int64_t n, int64_t k);

}  // namespace dsts
