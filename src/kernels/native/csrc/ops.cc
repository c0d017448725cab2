// Mat-vec and GEMM drivers: threading (OpenMP), tiling and packing around the ISA's inner loops.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>
#include "isa.h"
#include "ops.h"
#include "pool.h"
#include <thread>

namespace dsts {

static int nThreads = 0;

void setThreads(int n) { nThreads = n > 0 ? n : 1; }
int threads() {
  if (nThreads <= 0) nThreads = int(std::max(1u, std::thread::hardware_concurrency()));
  return nThreads;
}
const char* isaName() { return pickIsa().name; }
bool useIsa(const char* name) { return selectIsa(name); }

// Up to this many rows of X go through the mat-vec (weights streamed once for all rows).
constexpr int64_t MATVEC_M = 8;
// Products smaller than this run on the calling thread alone: waking a thread costs more.
constexpr int64_t PARALLEL_ELEMS = 1 << 15;

static void matvec(const Weight& w, const float* X, int64_t ldx, int64_t M, float* Y, int64_t ldy) {
  const Isa& isa = pickIsa();
  const int nt = w.N * w.K < PARALLEL_ELEMS ? 1 : threads();
  if (nt == 1) return isa.matvecRows(w, X, ldx, M, Y, ldy, 0, w.N);
  // Chunks of rows: several per thread so a thread slowed by another process can be helped.
  const int64_t chunks = std::min<int64_t>(w.N, nt == 1 ? 1 : int64_t(nt) * 4);
  const int64_t per = (w.N + chunks - 1) / chunks;
  parallelFor(chunks, [&](int64_t c) {
    const int64_t n0 = c * per, n1 = std::min(w.N, n0 + per);
    if (n0 < n1) isa.matvecRows(w, X, ldx, M, Y, ldy, n0, n1);
  });
}

// ---- packed GEMM: C tiles of MT×NT, K in KC slices; A packed in MR-row panels, B in NR-column panels.
constexpr int64_t MT = 192, NT = 128, KC = 256;

struct Buffers {
  float* a = nullptr;
  float* b = nullptr;
  float* row = nullptr;
  Buffers() {
    a = static_cast<float*>(std::aligned_alloc(64, MT * KC * 4));
    b = static_cast<float*>(std::aligned_alloc(64, NT * KC * 4));
    row = static_cast<float*>(std::aligned_alloc(64, KC * 4));
  }
  ~Buffers() {
    std::free(a);
    std::free(b);
    std::free(row);
  }
};

static Buffers& buffers() {
  thread_local std::unique_ptr<Buffers> b;
  if (!b) b = std::make_unique<Buffers>();
  return *b;
}

// A source for op(B)[k, n]: a stored weight (row n holds column n of op(B)), or an f32 K×N matrix.
struct BSource {
  const Weight* w;     // when set: op(B) = Wᵀ
  const float* f;      // else op(B)[k, n] = f[k·ld + n]
  int64_t ld;
};

static void packB(const BSource& src, int64_t N, int64_t j0, int64_t nc, int64_t p0, int64_t kc, float* Bp, float* row) {
  for (int64_t jp = 0; jp < nc; jp += NR) {
    float* panel = Bp + jp * kc;
    for (int64_t j = 0; j < NR; j++) {
      const int64_t n = j0 + jp + j;
      if (jp + j >= nc || n >= N) {
        for (int64_t k = 0; k < kc; k++) panel[k * NR + j] = 0;
      } else if (src.w) {
        decodeRow(*src.w, n, p0, kc, row);
        for (int64_t k = 0; k < kc; k++) panel[k * NR + j] = row[k];
      } else {
        for (int64_t k = 0; k < kc; k++) panel[k * NR + j] = src.f[(p0 + k) * src.ld + n];
      }
    }
  }
}

static void packA(const float* A, int64_t lda, bool transA, float alpha, int64_t M, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* Ap) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    float* panel = Ap + ip * kc;
    for (int64_t i = 0; i < MR; i++) {
      const int64_t m = i0 + ip + i;
      if (ip + i >= mc || m >= M) {
        for (int64_t k = 0; k < kc; k++) panel[k * MR + i] = 0;
      } else if (transA) {
        for (int64_t k = 0; k < kc; k++) panel[k * MR + i] = alpha * A[(p0 + k) * lda + m];
      } else {
        const float* r = A + m * lda + p0;
        for (int64_t k = 0; k < kc; k++) panel[k * MR + i] = alpha * r[k];
      }
    }
  }
}

static void packedGemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, bool transA, float alpha, const BSource& B, float* C, int64_t ldc) {
  const Isa& isa = pickIsa();
  const int64_t tm = (M + MT - 1) / MT, tn = (N + NT - 1) / NT, tiles = tm * tn;
  auto tile = [&](int64_t t) {
    Buffers& buf = buffers();
    // N-major order: neighbouring tiles share a B slab (the weight), which stays in cache.
    const int64_t i0 = (t % tm) * MT, j0 = (t / tm) * NT;
    const int64_t mc = std::min(MT, M - i0), nc = std::min(NT, N - j0);
    for (int64_t p0 = 0; p0 < K; p0 += KC) {
      const int64_t kc = std::min(KC, K - p0);
      packB(B, N, j0, (nc + NR - 1) / NR * NR, p0, kc, buf.b, buf.row);
      packA(A, lda, transA, alpha, M, i0, (mc + MR - 1) / MR * MR, p0, kc, buf.a);
      for (int64_t jp = 0; jp < nc; jp += NR)
        for (int64_t ip = 0; ip < mc; ip += MR)
          isa.micro(kc, buf.a + ip * kc, buf.b + jp * kc, C + (i0 + ip) * ldc + j0 + jp, ldc, std::min(MR, mc - ip), std::min(NR, nc - jp));
    }
  };
  if (M * N * K < (1 << 18)) {
    for (int64_t t = 0; t < tiles; t++) tile(t);
  } else {
    parallelFor(tiles, tile);
  }
}

double streamSum(const float* x, int64_t n) {
  const Isa& isa = pickIsa();
  static const std::vector<float> ones(4096, 1.0f);
  const int64_t chunk = 1 << 20, chunks = (n + chunk - 1) / chunk;
  std::vector<double> part(chunks);
  parallelFor(chunks, [&](int64_t c) {
    double s = 0;
    for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); i += 4096) s += isa.dot(x + i, ones.data(), std::min<int64_t>(4096, n - i));
    part[c] = s;
  });
  double total = 0;
  for (double s : part) total += s;
  return total;
}

// Whether a weight multiplies int8-rounded activations (see types.ts: int8 in 1×32 blocks, int4).
static bool intProduct(const Weight& w) { return w.kind == I4 || (w.kind == I8 && w.blockRows == 1 && w.blockCols == QBLOCK); }

// Rows of X rounded to int8 per 32-block, as the weights are: scale amax/127, half to even.
static void quantizeActivations(const float* X, int64_t ldx, int64_t M, int64_t K, int8_t* q, float* d) {
  const int64_t nb = (K + QBLOCK - 1) / QBLOCK, Kp = nb * QBLOCK;
  for (int64_t m = 0; m < M; m++) {
    const float* x = X + m * ldx;
    for (int64_t b = 0; b < nb; b++) {
      const int64_t k0 = b * QBLOCK, k1 = std::min(K, k0 + QBLOCK);
      float amax = 0;
      for (int64_t k = k0; k < k1; k++) amax = std::max(amax, std::fabs(x[k]));
      const float s = amax / 127.0f, inv = s > 0 ? 1.0f / s : 0.0f;
      d[m * nb + b] = s;
      int8_t* qb = q + m * Kp + k0;
      for (int64_t k = k0; k < k0 + QBLOCK; k++) qb[k - k0] = k < k1 ? int8_t(std::nearbyint(x[k] * inv)) : 0;
    }
  }
}

void qmatmul(const Weight& w, const float* X, int64_t ldx, int64_t M, float* Y, int64_t ldy) {
  if (M <= 0 || w.N <= 0) return;
  if (intProduct(w)) {
    const int64_t nb = (w.K + QBLOCK - 1) / QBLOCK, Kp = nb * QBLOCK;
    std::vector<int8_t> q(M * Kp);
    std::vector<float> d(M * nb);
    quantizeActivations(X, ldx, M, w.K, q.data(), d.data());
    if (M <= MATVEC_M) {
      const Isa& isa = pickIsa();
      if (w.N * w.K < PARALLEL_ELEMS) return isa.matvecQ(w, q.data(), d.data(), M, Y, ldy, 0, w.N);
      const int64_t chunks = std::min<int64_t>(w.N, int64_t(threads()) * 4), per = (w.N + chunks - 1) / chunks;
      parallelFor(chunks, [&](int64_t c) {
        const int64_t n0 = c * per, n1 = std::min(w.N, n0 + per);
        if (n0 < n1) isa.matvecQ(w, q.data(), d.data(), M, Y, ldy, n0, n1);
      });
      return;
    }
    // Larger M: the rounded activations in f32 (code × scale) through the packed GEMM — the same product.
    std::vector<float> xr(M * w.K);
    for (int64_t m = 0; m < M; m++)
      for (int64_t k = 0; k < w.K; k++) xr[m * w.K + k] = float(q[m * Kp + k]) * d[m * nb + k / QBLOCK];
    for (int64_t m = 0; m < M; m++) std::memset(Y + m * ldy, 0, w.N * 4);
    return packedGemm(M, w.N, w.K, xr.data(), w.K, false, 1.0f, BSource{&w, nullptr, 0}, Y, ldy);
  }
  if (M <= MATVEC_M) return matvec(w, X, ldx, M, Y, ldy);
  for (int64_t m = 0; m < M; m++) std::memset(Y + m * ldy, 0, w.N * 4);
  packedGemm(M, w.N, w.K, X, ldx, false, 1.0f, BSource{&w, nullptr, 0}, Y, ldy);
}

void gemmF32(int64_t M, int64_t N, int64_t K, bool transA, bool transB, float alpha, float beta, const float* A, int64_t lda,
             const float* B, int64_t ldb, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  for (int64_t m = 0; m < M; m++) {
    float* r = C + m * ldc;
    if (beta == 0) std::memset(r, 0, N * 4);
    else if (beta != 1) for (int64_t n = 0; n < N; n++) r[n] *= beta;
  }
  if (K == 0 || alpha == 0) return;
  if (M <= MATVEC_M && !transA && alpha == 1) {
    if (transB) {
      // op(B) = Bᵀ with B [N, K]: the rows are a weight's; the mat-vec streams them once.
      if (beta == 0) {
        const Weight w{F32, B, nullptr, 1, 1, N, K, ldb};
        return matvec(w, A, lda, M, C, ldc);
      }
    } else {
      // B [K, N] row-major: y += x[k] · B[k, :] row by row, columns split over threads.
      const Isa& isa = pickIsa();
      const int64_t chunk = std::max<int64_t>(64, (N + 2 * threads() - 1) / (2 * threads()));
      auto cols = [&](int64_t c) {
        const int64_t n0 = c * chunk, n1 = std::min(N, n0 + chunk);
        for (int64_t m = 0; m < M; m++)
          for (int64_t k = 0; k < K; k++) isa.axpy(A[m * lda + k], B + k * ldb + n0, C + m * ldc + n0, n1 - n0);
      };
      const int64_t chunks = (N + chunk - 1) / chunk;
      if (M * N * K < PARALLEL_ELEMS) for (int64_t c = 0; c < chunks; c++) cols(c);
      else parallelFor(chunks, cols);
      return;
    }
  }
  if (transB) {
    const Weight w{F32, B, nullptr, 1, 1, N, K, ldb};
    packedGemm(M, N, K, A, lda, transA, alpha, BSource{&w, nullptr, 0}, C, ldc);
  } else {
    packedGemm(M, N, K, A, lda, transA, alpha, BSource{nullptr, B, ldb}, C, ldc);
  }
}

}  // namespace dsts
