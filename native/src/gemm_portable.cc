// sgemm kernels in portable C++ (no ISA extensions): 4-lane "vectors" of plain floats the compiler may map to SSE2,
// a 4×8 tile. The fallback for CPUs without AVX2+FMA (tested here with MOELAB_ISA=scalar).
#include <cmath>
#include <utility>

#include "gemm_kernel.h"

#define GEMM_FN
#define GEMM_INL __attribute__((always_inline)) inline

namespace moelab::gemm {
namespace {

struct V4 {
  static constexpr int L = 4;
  struct T {
    float v[L];
  };
  using Tail = int;
  struct Mask {
    bool m[L];
  };

  template <class F>
  static GEMM_INL T map(F f) {
    T r;
    for (int i = 0; i < L; i++) r.v[i] = f(i);
    return r;
  }
  static GEMM_INL T zero() { return set1(0.0f); }
  static GEMM_INL T set1(float x) { return map([&](int) { return x; }); }
  static GEMM_INL T broadcast(const float* p) { return set1(*p); }
  static GEMM_INL T load(const float* p) { return map([&](int i) { return p[i]; }); }
  static GEMM_INL void store(float* p, T x) {
    for (int i = 0; i < L; i++) p[i] = x.v[i];
  }
  static GEMM_INL Tail tail(int n) { return n; }
  static GEMM_INL T load_tail(const float* p, Tail t) { return map([&](int i) { return i < t ? p[i] : 0.0f; }); }
  static GEMM_INL void store_tail(float* p, Tail t, T x) {
    for (int i = 0; i < t; i++) p[i] = x.v[i];
  }
  static GEMM_INL T add(T a, T b) { return map([&](int i) { return a.v[i] + b.v[i]; }); }
  static GEMM_INL T sub(T a, T b) { return map([&](int i) { return a.v[i] - b.v[i]; }); }
  static GEMM_INL T mul(T a, T b) { return map([&](int i) { return a.v[i] * b.v[i]; }); }
  static GEMM_INL T div(T a, T b) { return map([&](int i) { return a.v[i] / b.v[i]; }); }
  static GEMM_INL T min(T a, T b) { return map([&](int i) { return a.v[i] < b.v[i] ? a.v[i] : b.v[i]; }); }
  static GEMM_INL T max(T a, T b) { return map([&](int i) { return a.v[i] > b.v[i] ? a.v[i] : b.v[i]; }); }
  static GEMM_INL T fmadd(T a, T b, T c) { return map([&](int i) { return a.v[i] * b.v[i] + c.v[i]; }); }
  static GEMM_INL T fnmadd(T a, T b, T c) { return map([&](int i) { return c.v[i] - a.v[i] * b.v[i]; }); }
  static GEMM_INL T abs(T a) { return map([&](int i) { return std::fabs(a.v[i]); }); }
  static GEMM_INL T round(T a) { return map([&](int i) { return std::nearbyint(a.v[i]); }); }
  static GEMM_INL T ldexp(T p, T n) { return map([&](int i) { return std::ldexp(p.v[i], static_cast<int>(n.v[i])); }); }
  static GEMM_INL Mask lt(T a, T b) {
    Mask m;
    for (int i = 0; i < L; i++) m.m[i] = a.v[i] < b.v[i];
    return m;
  }
  static GEMM_INL Mask ge(T a, T b) {
    Mask m;
    for (int i = 0; i < L; i++) m.m[i] = a.v[i] >= b.v[i];
    return m;
  }
  static GEMM_INL T select(Mask m, T if_true, T if_false) {
    return map([&](int i) { return m.m[i] ? if_true.v[i] : if_false.v[i]; });
  }
  static GEMM_INL void transpose(T r[L]) {
    for (int i = 0; i < L; i++)
      for (int j = i + 1; j < L; j++) std::swap(r[i].v[j], r[j].v[i]);
  }
};

}  // namespace
}  // namespace moelab::gemm

#include "gemm_kernel_impl.h"

namespace moelab::gemm {

const KernelSet& kernels_portable() {
  static const KernelSet set = make_kernel_set<V4, 4, 2>("portable");
  return set;
}

}  // namespace moelab::gemm
