// sgemm kernels for AVX-512 (F+BW+VL+DQ, FMA): a 12×32 register tile (24 zmm accumulators, two B vectors per step),
// masked loads/stores for edge tiles, exp via vscalefps. Called only when best_isa() is avx512.
#include <immintrin.h>

#include "gemm_kernel.h"

// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own _mm512_undefined_ps (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define GEMM_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define GEMM_INL __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"), always_inline)) inline

namespace moelab::gemm {
namespace {

struct V512 {
  using T = __m512;
  using Tail = __mmask16;
  using Mask = __mmask16;
  static constexpr int L = 16;
  static GEMM_INL T zero() { return _mm512_setzero_ps(); }
  static GEMM_INL T set1(float x) { return _mm512_set1_ps(x); }
  static GEMM_INL T broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static GEMM_INL T load(const float* p) { return _mm512_loadu_ps(p); }
  static GEMM_INL void store(float* p, T x) { _mm512_storeu_ps(p, x); }
  static GEMM_INL Tail tail(int n) { return n >= L ? Tail(0xFFFF) : Tail((1u << n) - 1); }
  static GEMM_INL T load_tail(const float* p, Tail t) { return _mm512_maskz_loadu_ps(t, p); }
  static GEMM_INL void store_tail(float* p, Tail t, T x) { _mm512_mask_storeu_ps(p, t, x); }
  static GEMM_INL T add(T a, T b) { return _mm512_add_ps(a, b); }
  static GEMM_INL T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static GEMM_INL T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static GEMM_INL T div(T a, T b) { return _mm512_div_ps(a, b); }
  static GEMM_INL T min(T a, T b) { return _mm512_min_ps(a, b); }
  static GEMM_INL T max(T a, T b) { return _mm512_max_ps(a, b); }
  static GEMM_INL T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static GEMM_INL T fnmadd(T a, T b, T c) { return _mm512_fnmadd_ps(a, b, c); }
  static GEMM_INL T abs(T a) { return _mm512_abs_ps(a); }
  static GEMM_INL T round(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static GEMM_INL T ldexp(T p, T n) { return _mm512_scalef_ps(p, n); }
  static GEMM_INL Mask lt(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static GEMM_INL Mask ge(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static GEMM_INL T select(Mask m, T if_true, T if_false) { return _mm512_mask_blend_ps(m, if_false, if_true); }
  // 16×16: unpack pairs of rows, shuffle 2-element groups, then exchange 128-bit lanes twice.
  static GEMM_INL void transpose(T r[16]) {
    T t[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
      r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
      r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
      r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
      r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int h = 0; h < 16; h += 8) {
      for (int i = 0; i < 4; i++) {
        t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
        t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
      }
    }
    for (int i = 0; i < 8; i++) {
      r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
      r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
  }
};

}  // namespace
}  // namespace moelab::gemm

#include "gemm_kernel_impl.h"

namespace moelab::gemm {

const KernelSet& kernels_avx512() {
  static const KernelSet set = make_kernel_set<V512, 14, 2>("avx512");
  return set;
}

}  // namespace moelab::gemm
