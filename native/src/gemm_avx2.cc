// sgemm kernels for AVX2 + FMA: a 6×16 register tile (12 ymm accumulators, two B vectors per step), vmaskmov for
// edge tiles. Called only when best_isa() is avx2 or better (the AVX-512 machine tests it with MOELAB_ISA=avx2).
#include <immintrin.h>

#include "gemm_kernel.h"

#define GEMM_FN __attribute__((target("avx2,fma")))
#define GEMM_INL __attribute__((target("avx2,fma"), always_inline)) inline

namespace moelab::gemm {
namespace {

struct V256 {
  using T = __m256;
  using Tail = __m256i;
  using Mask = __m256;
  static constexpr int L = 8;
  static GEMM_INL T zero() { return _mm256_setzero_ps(); }
  static GEMM_INL T set1(float x) { return _mm256_set1_ps(x); }
  static GEMM_INL T broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static GEMM_INL T load(const float* p) { return _mm256_loadu_ps(p); }
  static GEMM_INL void store(float* p, T x) { _mm256_storeu_ps(p, x); }
  static GEMM_INL Tail tail(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static GEMM_INL T load_tail(const float* p, Tail t) { return _mm256_maskload_ps(p, t); }
  static GEMM_INL void store_tail(float* p, Tail t, T x) { _mm256_maskstore_ps(p, t, x); }
  static GEMM_INL T add(T a, T b) { return _mm256_add_ps(a, b); }
  static GEMM_INL T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static GEMM_INL T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static GEMM_INL T div(T a, T b) { return _mm256_div_ps(a, b); }
  static GEMM_INL T min(T a, T b) { return _mm256_min_ps(a, b); }
  static GEMM_INL T max(T a, T b) { return _mm256_max_ps(a, b); }
  static GEMM_INL T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static GEMM_INL T fnmadd(T a, T b, T c) { return _mm256_fnmadd_ps(a, b, c); }
  static GEMM_INL T abs(T a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  static GEMM_INL T round(T a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // p·2ⁿ for n in [−126, 128] (vexp's clamp keeps it there): build 2ⁿ's exponent bits.
  static GEMM_INL T ldexp(T p, T n) {
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
  }
  static GEMM_INL Mask lt(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static GEMM_INL Mask ge(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static GEMM_INL T select(Mask m, T if_true, T if_false) { return _mm256_blendv_ps(if_false, if_true, m); }
  // 8×8: unpack pairs of rows, shuffle 2-element groups, then exchange 128-bit halves.
  static GEMM_INL void transpose(T r[8]) {
    T t[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
      t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
      t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++) r[i] = t[i];
  }
};

}  // namespace
}  // namespace moelab::gemm

#include "gemm_kernel_impl.h"

namespace moelab::gemm {

const KernelSet& kernels_avx2() {
  static const KernelSet set = make_kernel_set<V256, 6, 2>("avx2");
  return set;
}

}  // namespace moelab::gemm
