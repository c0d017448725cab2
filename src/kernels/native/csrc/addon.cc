// Node-API bindings: argument checks here (a bad length is a JS exception, never a stray write),
// the work in ops.cc / quantize.cc / mapping.cc.
#include <node_api.h>
#include <cstring>
#include <stdexcept>
#include <string>
#include "mapping.h"
#include "ops.h"

using namespace dsts;

namespace {

struct Fail : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(napi_env env, napi_status s) {
  if (s != napi_ok) throw Fail("native: bad argument");
}

struct Args {
  napi_env env;
  size_t argc = 20;
  napi_value argv[20];
  Args(napi_env e, napi_callback_info info, size_t need) : env(e) {
    check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
    if (argc < need) throw Fail("native: expected " + std::to_string(need) + " arguments");
  }
  double num(size_t i) const {
    double v;
    check(env, napi_get_value_double(env, argv[i], &v));
    return v;
  }
  int64_t i64(size_t i) const {
    int64_t v;
    check(env, napi_get_value_int64(env, argv[i], &v));
    return v;
  }
  bool flag(size_t i) const {
    bool v;
    check(env, napi_get_value_bool(env, argv[i], &v));
    return v;
  }
  std::string str(size_t i) const {
    size_t n;
    check(env, napi_get_value_string_utf8(env, argv[i], nullptr, 0, &n));
    std::string s(n, '\0');
    check(env, napi_get_value_string_utf8(env, argv[i], s.data(), n + 1, &n));
    return s;
  }
  bool isNull(size_t i) const {
    napi_valuetype t;
    check(env, napi_typeof(env, argv[i], &t));
    return t == napi_null || t == napi_undefined;
  }
  // A typed array's data and byte length (from its own offset).
  void* bytes(size_t i, size_t* len) const {
    napi_typedarray_type type;
    size_t length, offset;
    void* data;
    napi_value ab;
    check(env, napi_get_typedarray_info(env, argv[i], &type, &length, &data, &ab, &offset));
    static const size_t sizes[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
    *len = length * sizes[type];
    return data;
  }
  float* f32(size_t i, size_t* count) const {
    napi_typedarray_type type;
    size_t length, offset;
    void* data;
    napi_value ab;
    check(env, napi_get_typedarray_info(env, argv[i], &type, &length, &data, &ab, &offset));
    if (type != napi_float32_array) throw Fail("native: expected a Float32Array");
    *count = length;
    return static_cast<float*>(data);
  }
};

void need(bool ok, const char* what) {
  if (!ok) throw std::range_error(std::string("native: ") + what);
}

template <class F>
napi_value guarded(napi_env env, F&& f) {
  try {
    return f();
  } catch (const std::range_error& e) {
    napi_throw_range_error(env, nullptr, e.what());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, e.what());
  }
  return nullptr;
}

napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

int64_t codeBytes(int kind, int64_t N, int64_t K) {
  switch (kind) {
    case F32: return N * K * 4;
    case BF16: case F16: return N * K * 2;
    case I4: return N * (K / 2);
    default: return N * K;
  }
}

// qmatmul(kind, M, N, K, X, xOff, W, S|null, blockRows, blockCols, Y, yOff)
napi_value Qmatmul(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 12);
    const int kind = int(a.i64(0));
    const int64_t M = a.i64(1), N = a.i64(2), K = a.i64(3), xOff = a.i64(5), br = a.i64(8), bc = a.i64(9), yOff = a.i64(11);
    size_t nx, ny, wb, ns = 0;
    const float* X = a.f32(4, &nx);
    const void* W = a.bytes(6, &wb);
    const float* S = a.isNull(7) ? nullptr : a.f32(7, &ns);
    float* Y = a.f32(10, &ny);
    need(kind >= F32 && kind <= I4 && M >= 0 && N >= 0 && K >= 0 && xOff >= 0 && yOff >= 0, "bad sizes");
    need(int64_t(nx) >= xOff + M * K && int64_t(ny) >= yOff + M * N && int64_t(wb) >= codeBytes(kind, N, K), "buffer too small");
    if (kind >= E4M3) {
      if (kind == I4) need(K % I4_BLOCK == 0 && bc == I4_BLOCK && br == 1, "int4 needs K % 32 == 0 and 1×32 blocks");
      need(S && br > 0 && bc > 0 && int64_t(ns) >= ((N + br - 1) / br) * ((K + bc - 1) / bc), "scales missing or too small");
    }
    const Weight w{kind, W, S, br > 0 ? br : 1, bc > 0 ? bc : 1, N, K, K};
    qmatmul(w, X + xOff, K, M, Y + yOff, N);
    return undef(env);
  });
}

// gemm(M, N, K, transA, transB, alpha, beta, A, aOff, lda, B, bOff, ldb, C, cOff, ldc)
napi_value Gemm(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 16);
    const int64_t M = a.i64(0), N = a.i64(1), K = a.i64(2);
    const bool tA = a.flag(3), tB = a.flag(4);
    const float alpha = float(a.num(5)), beta = float(a.num(6));
    size_t na, nb, nc;
    const float* A = a.f32(7, &na);
    const float* B = a.f32(10, &nb);
    float* C = a.f32(13, &nc);
    const int64_t ao = a.i64(8), lda = a.i64(9), bo = a.i64(11), ldb = a.i64(12), co = a.i64(14), ldc = a.i64(15);
    auto span = [](int64_t rows, int64_t cols, int64_t ld) { return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols; };
    need(M >= 0 && N >= 0 && K >= 0 && ao >= 0 && bo >= 0 && co >= 0, "bad sizes");
    need(int64_t(na) >= ao + (tA ? span(K, M, lda) : span(M, K, lda)), "A too small");
    need(int64_t(nb) >= bo + (tB ? span(N, K, ldb) : span(K, N, ldb)), "B too small");
    need(int64_t(nc) >= co + span(M, N, ldc), "C too small");
    gemmF32(M, N, K, tA, tB, alpha, beta, A + ao, lda, B + bo, ldb, C + co, ldc);
    return undef(env);
  });
}

// quantize(dstKind, srcKind, src, N, K, blockRows, blockCols, codes, scales)
napi_value Quantize(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 9);
    const int dst = int(a.i64(0)), src = int(a.i64(1));
    const int64_t N = a.i64(3), K = a.i64(4), br = a.i64(5), bc = a.i64(6);
    size_t sb, cb, ns;
    const void* s = a.bytes(2, &sb);
    void* codes = a.bytes(7, &cb);
    float* scales = a.f32(8, &ns);
    need(src == F32 || src == BF16 || src == F16, "source must be f32, bf16 or f16");
    need(dst == I8 || dst == I4 || dst == E4M3, "target must be i8, i4 or e4m3");
    need(N >= 0 && K > 0 && br > 0 && bc > 0, "bad sizes");
    if (dst == I4) need(K % I4_BLOCK == 0, "int4 needs K % 32 == 0");
    const int64_t bR = dst == E4M3 ? br : 1, bC = dst == I4 ? I4_BLOCK : bc;
    need(int64_t(sb) >= codeBytes(src, N, K) && int64_t(cb) >= codeBytes(dst, N, K), "buffer too small");
    need(int64_t(ns) >= ((N + bR - 1) / bR) * ((K + bC - 1) / bC), "scales too small");
    quantize(dst, src, s, N, K, bR, bC, codes, scales);
    return undef(env);
  });
}

// attention(B, H, Hkv, Tq, Tk, Dk, Dv, scale, causal, q, k, kStride, kRow, v, vStride, vRow, out, lse)
napi_value Attention(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 18);
    const int64_t B = a.i64(0), H = a.i64(1), Hkv = a.i64(2), Tq = a.i64(3), Tk = a.i64(4), Dk = a.i64(5), Dv = a.i64(6);
    const float scale = float(a.num(7));
    const bool causal = a.flag(8);
    const int64_t ks = a.i64(11), kr = a.i64(12), vs = a.i64(14), vr = a.i64(15);
    size_t nq, nk, nv, no, nl;
    const float* q = a.f32(9, &nq);
    const float* k = a.f32(10, &nk);
    const float* v = a.f32(13, &nv);
    float* out = a.f32(16, &no);
    float* lse = a.f32(17, &nl);
    need(B >= 0 && H > 0 && Hkv > 0 && H % Hkv == 0 && Tq >= 0 && Tk >= 0 && Dk > 0 && Dv > 0, "bad sizes");
    need(kr >= Dk && vr >= Dv, "row strides smaller than a row");
    const int64_t kHead = Tk == 0 ? 0 : (Tk - 1) * kr + Dk, vHead = Tk == 0 ? 0 : (Tk - 1) * vr + Dv;
    need(ks >= kHead && vs >= vHead, "head strides smaller than a head");
    const int64_t heads = B * Hkv;
    need(int64_t(nq) >= B * H * Tq * Dk && int64_t(no) >= B * H * Tq * Dv && int64_t(nl) >= B * H * Tq, "q/out/lse too small");
    need(heads == 0 || (int64_t(nk) >= (heads - 1) * ks + kHead && int64_t(nv) >= (heads - 1) * vs + vHead), "k/v too small");
    attention(B, H, Hkv, Tq, Tk, Dk, Dv, scale, causal, q, k, ks, kr, v, vs, vr, out, lse);
    return undef(env);
  });
}

void finalizeMapping(napi_env, void* data, void*) { release(static_cast<Mapping*>(data)); }

Mapping* mappingOf(const Args& a, size_t i) {
  void* p;
  check(a.env, napi_get_value_external(a.env, a.argv[i], &p));
  return static_cast<Mapping*>(p);
}

// mapFile(path) → handle (the file's bytes stay mapped while the handle or a view lives)
napi_value MapFile(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 1);
    Mapping* m = mapFile(a.str(0));
    napi_value ext, size;
    check(env, napi_create_external(env, m, finalizeMapping, nullptr, &ext));
    napi_value obj;
    check(env, napi_create_object(env, &obj));
    check(env, napi_set_named_property(env, obj, "handle", ext));
    check(env, napi_create_double(env, double(m->size), &size));
    check(env, napi_set_named_property(env, obj, "size", size));
    return obj;
  });
}

// mapView(handle, offset, length) → ArrayBuffer over the mapped bytes (no copy)
napi_value MapView(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 3);
    Mapping* m = mappingOf(a, 0);
    const int64_t off = a.i64(1), len = a.i64(2);
    need(off >= 0 && len >= 0 && size_t(off + len) <= m->size, "view outside the file");
    m->refs++;
    napi_value ab;
    const napi_status s = napi_create_external_arraybuffer(env, static_cast<char*>(m->base) + off, size_t(len), finalizeMapping, m, &ab);
    if (s != napi_ok) {
      release(m);
      throw Fail("native: cannot create an external ArrayBuffer in this runtime");
    }
    return ab;
  });
}

napi_value Populate(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 3);
    Mapping* m = mappingOf(a, 0);
    populate(m, size_t(a.i64(1)), size_t(a.i64(2)));
    return undef(env);
  });
}

napi_value DropPages(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 3);
    Mapping* m = mappingOf(a, 0);
    dropPages(m, size_t(a.i64(1)), size_t(a.i64(2)));
    return undef(env);
  });
}

// rmsNorm(x, w, out, rows, dim, eps, rstd|null)
napi_value RmsNorm(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 7);
    size_t nx, nw, no, nr = 0;
    const float* x = a.f32(0, &nx);
    const float* w = a.f32(1, &nw);
    float* out = a.f32(2, &no);
    const int64_t rows = a.i64(3), dim = a.i64(4);
    float* rstd = a.isNull(6) ? nullptr : a.f32(6, &nr);
    need(rows >= 0 && dim >= 0 && int64_t(nx) >= rows * dim && int64_t(no) >= rows * dim && int64_t(nw) >= dim && (!rstd || int64_t(nr) >= rows), "rmsNorm: buffers too small");
    rmsNorm(x, w, out, rows, dim, float(a.num(5)), rstd);
    return undef(env);
  });
}

napi_value SiluMul(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 4);
    size_t ng, nu, no;
    const float* g = a.f32(0, &ng);
    const float* u = a.f32(1, &nu);
    float* out = a.f32(2, &no);
    const int64_t n = a.i64(3);
    need(n >= 0 && int64_t(ng) >= n && int64_t(nu) >= n && int64_t(no) >= n, "siluMul: buffers too small");
    siluMul(g, u, out, n);
    return undef(env);
  });
}

napi_value Softmax(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 4);
    size_t nx, no;
    const float* x = a.f32(0, &nx);
    float* out = a.f32(1, &no);
    const int64_t rows = a.i64(2), cols = a.i64(3);
    need(rows >= 0 && cols >= 0 && int64_t(nx) >= rows * cols && int64_t(no) >= rows * cols, "softmax: buffers too small");
    softmax(x, out, rows, cols);
    return undef(env);
  });
}

napi_value StreamSum(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 1);
    size_t n;
    const float* x = a.f32(0, &n);
    napi_value r;
    check(env, napi_create_double(env, streamSum(x, int64_t(n)), &r));
    return r;
  });
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 1);
    setThreads(int(a.i64(0)));
    return undef(env);
  });
}

napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    napi_value obj, isa, th;
    check(env, napi_create_object(env, &obj));
    check(env, napi_create_string_utf8(env, isaName(), NAPI_AUTO_LENGTH, &isa));
    check(env, napi_create_int32(env, threads(), &th));
    check(env, napi_set_named_property(env, obj, "isa", isa));
    check(env, napi_set_named_property(env, obj, "threads", th));
    return obj;
  });
}

napi_value UseIsa(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    Args a(env, info, 1);
    napi_value r;
    check(env, napi_get_boolean(env, useIsa(a.str(0).c_str()), &r));
    return r;
  });
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"qmatmul", nullptr, Qmatmul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attention", nullptr, Attention, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"quantize", nullptr, Quantize, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"mapFile", nullptr, MapFile, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"mapView", nullptr, MapView, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"populate", nullptr, Populate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dropPages", nullptr, DropPages, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rmsNorm", nullptr, RmsNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"siluMul", nullptr, SiluMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmax", nullptr, Softmax, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"streamSum", nullptr, StreamSum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"useIsa", nullptr, UseIsa, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
