// Attention forward with an online softmax (no Tq×Tk matrix): one query row at a time, keys in tiles,
// reading keys and values where the cache keeps them. Rows are split over threads.
#include <algorithm>
#include <cmath>
#include <vector>
#include "isa.h"
#include "ops.h"
#include "pool.h"

namespace dsts {

constexpr int64_t KEY_TILE = 64;

void attention(int64_t B, int64_t H, int64_t Hkv, int64_t Tq, int64_t Tk, int64_t Dk, int64_t Dv, float scale, bool causal,
               const float* q, const float* k, int64_t kStride, int64_t kRow, const float* v, int64_t vStride, int64_t vRow, float* out,
               float* lse) {
  const Isa& isa = pickIsa();
  const int64_t group = H / Hkv, rows = B * H * Tq;
  // Blocks of query rows, so each task sets up its scratch once.
  const int64_t per = 4, tasks = (rows + per - 1) / per;
  auto block = [&](int64_t task) {
    std::vector<float> s(KEY_TILE), acc(Dv);
    for (int64_t row = task * per; row < std::min(rows, (task + 1) * per); row++) {
      const int64_t i = row % Tq, bh = row / Tq, h = bh % H, b = bh / H;
      const int64_t kvh = b * Hkv + h / group;
      const float* kh = k + kvh * kStride;
      const float* vh = v + kvh * vStride;
      const float* qr = q + row * Dk;
      const int64_t last = causal ? std::min(Tk - 1, i + (Tk - Tq)) : Tk - 1;
      float m = -INFINITY, l = 0;
      std::fill(acc.begin(), acc.end(), 0.0f);
      for (int64_t j0 = 0; j0 <= last; j0 += KEY_TILE) {
        const int64_t j1 = std::min(j0 + KEY_TILE, last + 1);
        float tileMax = -INFINITY;
        for (int64_t j = j0; j < j1; j++) {
          s[j - j0] = isa.dot(qr, kh + j * kRow, Dk) * scale;
          tileMax = std::max(tileMax, s[j - j0]);
        }
        const float mNew = std::max(m, tileMax);
        const float corr = std::exp(m - mNew);  // rescales what was summed under the old max
        if (corr != 1.0f) {
          l *= corr;
          for (int64_t d = 0; d < Dv; d++) acc[d] *= corr;
        }
        for (int64_t j = j0; j < j1; j++) {
          const float p = std::exp(s[j - j0] - mNew);
          l += p;
          isa.axpy(p, vh + j * vRow, acc.data(), Dv);
        }
        m = mNew;
      }
      float* o = out + row * Dv;
      for (int64_t d = 0; d < Dv; d++) o[d] = l > 0 ? acc[d] / l : 0.0f;
      lse[row] = l > 0 ? m + std::log(l) : -INFINITY;
    }
  };
  if (rows * Tk * (Dk + Dv) < (1 << 16)) {
    for (int64_t t = 0; t < tasks; t++) block(t);
  } else {
    parallelFor(tasks, block);
  }
}

}  // namespace dsts
