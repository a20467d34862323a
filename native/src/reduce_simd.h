// SIMD building blocks of the reduction, softmax and layout kernels, written once with GCC vector extensions as
// always-inline templates over the lane count W and compiled into functions for AVX-512 (W = 16), AVX2 (W = 8) and the
// x86-64 baseline (W = 4, SSE2; MOELAB_ISA=scalar), one of which best_isa() picks at run time (cpu.h). The addon is
// built without -march flags, so only the target-attributed variants contain wide instructions (the AVX variants may
// fuse multiply-adds, so results can differ from the baseline's in the last bit).
// Reference: GCC manual, "Using Vector Instructions through Built-in Functions"; Cephes expf for exp().
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "cpu.h"

// Vector values only pass between always-inline helpers (never across a real call): GCC's ABI note does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

#define MOELAB_INLINE [[gnu::always_inline]] inline
#define MOELAB_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define MOELAB_TARGET_AVX2 __attribute__((target("avx2,fma")))

// MOELAB_SIMD_VARIANTS(ret, name, params, args): defines name_avx512, name_avx2 and name_base, each the always-inline
// template name##_impl<W> args compiled for its instruction set, and name_for_isa(), the variant best_isa() allows.
#define MOELAB_SIMD_VARIANTS(ret, name, params, args)                                \
  MOELAB_TARGET_AVX512 ret name##_avx512 params { return name##_impl<16> args; }     \
  MOELAB_TARGET_AVX2 ret name##_avx2 params { return name##_impl<8> args; }          \
  ret name##_base params { return name##_impl<4> args; }                             \
  auto name##_for_isa()->ret(*) params {                                             \
    switch (::moelab::best_isa()) {                                                  \
      case ::moelab::Isa::avx512: return name##_avx512;                              \
      case ::moelab::Isa::avx2: return name##_avx2;                                  \
      default: return name##_base;                                                   \
    }                                                                                \
  }

namespace moelab::simd {

// Vector types of W float lanes (the same register width holds W int32 lanes or W/2 double lanes).
template <int W>
struct V {
  typedef float f32 __attribute__((vector_size(4 * W)));
  typedef int32_t i32 __attribute__((vector_size(4 * W)));
  typedef float half __attribute__((vector_size(2 * W)));
  typedef double f64 __attribute__((vector_size(4 * W)));
};

constexpr float kInf = std::numeric_limits<float>::infinity();

template <int W>
MOELAB_INLINE typename V<W>::f32 splat(float x) {
  return typename V<W>::f32{} + x;
}

template <int W>
MOELAB_INLINE typename V<W>::f32 load(const float* p) {
  typename V<W>::f32 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <int W>
MOELAB_INLINE void store(float* p, const typename V<W>::f32& v) {
  std::memcpy(p, &v, sizeof v);
}

// The first n < W lanes from p, the others `fill`.
template <int W>
MOELAB_INLINE typename V<W>::f32 load_part(const float* p, size_t n, float fill) {
  typename V<W>::f32 v = splat<W>(fill);
  std::memcpy(&v, p, n * sizeof(float));
  return v;
}

template <int W>
MOELAB_INLINE void store_part(float* p, const typename V<W>::f32& v, size_t n) {
  std::memcpy(p, &v, n * sizeof(float));
}

// Adds the lanes of v, widened to double, into lo (lanes 0..W/2) and hi (lanes W/2..W).
template <int W>
MOELAB_INLINE void add_widened(const typename V<W>::f32& v, typename V<W>::f64& lo, typename V<W>::f64& hi) {
  typename V<W>::half a, b;
  std::memcpy(&a, &v, sizeof a);
  std::memcpy(&b, reinterpret_cast<const char*>(&v) + sizeof a, sizeof b);
  lo += __builtin_convertvector(a, typename V<W>::f64);
  hi += __builtin_convertvector(b, typename V<W>::f64);
}

template <int W>
MOELAB_INLINE double hsum(const typename V<W>::f64& v) {
  double s = 0;
  for (int k = 0; k < W / 2; k++) s += v[k];
  return s;
}

template <int W>
MOELAB_INLINE float hsum(const typename V<W>::f32& v) {
  float s = 0;
  for (int k = 0; k < W; k++) s += v[k];
  return s;
}

// Σ x[0..n) accumulated in double (each float is exact in double, so only the double additions round).
template <int W>
MOELAB_INLINE double sum_row(const float* x, size_t n) {
  using f64 = typename V<W>::f64;
  f64 a0{}, a1{}, a2{}, a3{};
  size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    add_widened<W>(load<W>(x + i), a0, a1);
    add_widened<W>(load<W>(x + i + W), a2, a3);
  }
  if (i + W <= n) {
    add_widened<W>(load<W>(x + i), a0, a1);
    i += W;
  }
  if (i < n) add_widened<W>(load_part<W>(x + i, n - i, 0.f), a2, a3);
  return hsum<W>((a0 + a2) + (a1 + a3));
}

// max x[0..n): NaN when any element is NaN (tfjs cpu's rule), -Inf when n == 0. The vector loop skips NaN (a
// compare-select) and sums v * 0, which is NaN only if the row holds a NaN or an infinity; such rows are rescanned
// for NaN (GCC scalarises a NaN mask accumulated in the loop, so the check stays arithmetic).
template <int W>
MOELAB_INLINE float max_row(const float* x, size_t n) {
  using f32 = typename V<W>::f32;
  const f32 lowest = splat<W>(-kInf);
  f32 m0 = lowest, m1 = lowest, probe{};
  size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const f32 v0 = load<W>(x + i), v1 = load<W>(x + i + W);
    m0 = v0 > m0 ? v0 : m0;
    m1 = v1 > m1 ? v1 : m1;
    probe += v0 * 0.f + v1 * 0.f;
  }
  if (i + W <= n) {
    const f32 v = load<W>(x + i);
    m0 = v > m0 ? v : m0;
    probe += v * 0.f;
    i += W;
  }
  if (i < n) {
    const f32 v = load_part<W>(x + i, n - i, -kInf);
    m0 = v > m0 ? v : m0;
    probe += load_part<W>(x + i, n - i, 0.f) * 0.f;
  }
  if (hsum<W>(probe) != 0.f) {  // a NaN or an infinity somewhere
    for (size_t j = 0; j < n; j++) {
      if (x[j] != x[j]) return x[j];
    }
  }
  m0 = m1 > m0 ? m1 : m0;
  float m = m0[0];
  for (int k = 1; k < W; k++) m = m0[k] > m ? m0[k] : m;
  return m;
}

// acc[j] += x[j] for j < n, in double.
template <int W>
MOELAB_INLINE void sum_cols(double* acc, const float* x, size_t n) {
  using f64 = typename V<W>::f64;
  size_t j = 0;
  for (; j + W <= n; j += W) {
    f64 lo, hi;
    std::memcpy(&lo, acc + j, sizeof lo);
    std::memcpy(&hi, acc + j + W / 2, sizeof hi);
    add_widened<W>(load<W>(x + j), lo, hi);
    std::memcpy(acc + j, &lo, sizeof lo);
    std::memcpy(acc + j + W / 2, &hi, sizeof hi);
  }
  for (; j < n; j++) acc[j] += x[j];
}

// out[j] = float(acc[j] / divisor): one rounding of the double sum.
template <int W>
MOELAB_INLINE void store_sums(float* out, const double* acc, size_t n, double divisor) {
  for (size_t j = 0; j < n; j++) out[j] = static_cast<float>(acc[j] / divisor);
}

// acc[j] = max(acc[j], x[j]) with tfjs cpu's rule: a NaN element wins and then stays.
template <int W>
MOELAB_INLINE void max_cols(float* acc, const float* x, size_t n) {
  using f32 = typename V<W>::f32;
  size_t j = 0;
  for (; j + W <= n; j += W) {
    const f32 v = load<W>(x + j), a = load<W>(acc + j);
    store<W>(acc + j, (v != v) | (v > a) ? v : a);
  }
  for (; j < n; j++) {
    if (x[j] != x[j] || x[j] > acc[j]) acc[j] = x[j];
  }
}

// e^x per lane (Cephes expf: Cody-Waite reduction by ln 2, degree-7 polynomial). Max relative error vs a double exp,
// measured on 2^24 points of [-87.3, 88.7]: 8.4e-8 at every width (test/native/reduce.test.ts checks softmax against
// a float64 reference). Results below about -87.3 are subnormal (scaled in two steps, so they round once), below
// -103.9 zero; above 88.72 +Inf; NaN stays NaN.
template <int W>
MOELAB_INLINE typename V<W>::f32 exp(const typename V<W>::f32& in) {
  using f32 = typename V<W>::f32;
  using i32 = typename V<W>::i32;
  f32 x = in < -110.f ? splat<W>(-110.f) : in;  // e^-110 rounds to 0; keeps the exponent arithmetic in range
  x = x > 88.8f ? splat<W>(88.8f) : x;          // rounds to +Inf
  const float magic = 12582912.f;         // 1.5 * 2^23: adding it rounds to an integer kept in the low mantissa bits
  const f32 t = x * 1.44269504088896341f + magic;
  const f32 n = t - magic;
  const i32 ni = __builtin_bit_cast(i32, t) - 0x4B400000;
  f32 r = x - n * 0.693359375f;  // ln 2 = 0.693359375 - 2.12194440e-4; n * 0.693359375 is exact
  r = r - n * -2.12194440e-4f;
  f32 p = splat<W>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.f;
  // 2^n as 2^n1 * 2^n2, both normal floats for n in [-159, 128], so subnormal results round once.
  const i32 n1 = ni >> 1, n2 = ni - n1;
  const i32 b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
  return p * __builtin_bit_cast(f32, b1) * __builtin_bit_cast(f32, b2);
}

// y[i] = e^(x[i] − m) for i < n (y may be x); returns Σ y accumulated in double. The softmax step shared by
// softmax.cc and the attention probabilities (attention_gemm.cc).
template <int W>
MOELAB_INLINE double exp_shifted_row(const float* x, float* y, size_t n, float m) {
  using f32 = typename V<W>::f32;
  using f64 = typename V<W>::f64;
  const f32 mv = splat<W>(m);
  f64 lo{}, hi{};
  size_t i = 0;
  for (; i + W <= n; i += W) {
    const f32 e = exp<W>(load<W>(x + i) - mv);
    store<W>(y + i, e);
    add_widened<W>(e, lo, hi);
  }
  if (i < n) {  // padding lanes are -Inf: e^-Inf = 0 adds nothing
    const f32 e = exp<W>(load_part<W>(x + i, n - i, -kInf) - mv);
    store_part<W>(y + i, e, n - i);
    add_widened<W>(e, lo, hi);
  }
  return hsum<W>(lo + hi);
}

}  // namespace moelab::simd
