// Row-wise elementwise kernels of a forward pass (RMSNorm, SwiGLU gate, softmax): cheap, so the point is
// to skip any copy or thread hand-off for the small rows of decoding; large inputs are split over rows.
#include <algorithm>
#include <cmath>
#include "ops.h"
#include "pool.h"

namespace dsts {

constexpr int64_t ROWS_PARALLEL = 1 << 16;  // elements below which one thread does it all

template <class F>
static void overRows(int64_t rows, int64_t cols, F&& row) {
  if (rows * cols < ROWS_PARALLEL || rows == 1) {
    for (int64_t r = 0; r < rows; r++) row(r);
    return;
  }
  const int64_t per = std::max<int64_t>(1, ROWS_PARALLEL / std::max<int64_t>(cols, 1) / 4), tasks = (rows + per - 1) / per;
  parallelFor(tasks, [&](int64_t t) {
    for (int64_t r = t * per; r < std::min(rows, (t + 1) * per); r++) row(r);
  });
}

void rmsNorm(const float* x, const float* w, float* out, int64_t rows, int64_t dim, float eps, float* rstd) {
  overRows(rows, dim, [&](int64_t r) {
    const float* xr = x + r * dim;
    double ss = 0;
    for (int64_t i = 0; i < dim; i++) ss += double(xr[i]) * xr[i];
    const float rs = float(1.0 / std::sqrt(ss / double(dim) + eps));
    if (rstd) rstd[r] = rs;
    float* o = out + r * dim;
    for (int64_t i = 0; i < dim; i++) o[i] = xr[i] * rs * w[i];
  });
}

void siluMul(const float* gate, const float* up, float* out, int64_t n) {
  const int64_t chunk = 4096;
  overRows((n + chunk - 1) / chunk, chunk, [&](int64_t c) {
    for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); i++) {
      const float g = gate[i];
      out[i] = g / (1.0f + std::exp(-g)) * up[i];
    }
  });
}

void softmax(const float* x, float* out, int64_t rows, int64_t cols) {
  overRows(rows, cols, [&](int64_t r) {
    const float* xr = x + r * cols;
    float* o = out + r * cols;
    float mx = -INFINITY;
    for (int64_t i = 0; i < cols; i++) mx = std::max(mx, xr[i]);
    double sum = 0;
    for (int64_t i = 0; i < cols; i++) sum += (o[i] = std::exp(xr[i] - mx));
    const float inv = float(1.0 / sum);
    for (int64_t i = 0; i < cols; i++) o[i] *= inv;
  });
}

}  // namespace dsts
