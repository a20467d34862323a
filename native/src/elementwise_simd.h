// Vector primitives for the elementwise kernels, one namespace per instruction set (avx512: 16 lanes, avx2: 8 lanes,
// scalar: 1 lane) with the same names, so elementwise_kernels.h and unary_math.h are written once and stamped out
// per ISA. Every AVX function carries its own target attribute (no -march flags): call them only after best_isa().
// Semantics follow the x86 instructions, scalar included: vmax(a, b) = a > b ? a : b (b when either is NaN).
#pragma once
// GCC 12 reports -Wmaybe-uninitialized inside many AVX-512 intrinsics (they start from _mm512_undefined_*()) once
// they are inlined; the warning is located in the intrinsics header, so it is silenced for that header only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <bit>
#include <cstddef>
#include <cstdint>

#define MOELAB_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define MOELAB_TARGET_AVX2 __attribute__((target("avx2,fma")))

namespace moelab::simd {

namespace avx512 {
#define FN MOELAB_TARGET_AVX512 __attribute__((always_inline)) inline
constexpr int W = 16;
using vf = __m512;
using vi = __m512i;
using vm = __mmask16;

FN __mmask16 first(size_t n) { return static_cast<__mmask16>((1u << n) - 1); }
FN vf load(const float* p) { return _mm512_loadu_ps(p); }
FN vf loadn(const float* p, size_t n) { return _mm512_maskz_loadu_ps(first(n), p); }
FN void store(float* p, vf v) { _mm512_storeu_ps(p, v); }
FN void storen(float* p, vf v, size_t n) { _mm512_mask_storeu_ps(p, first(n), v); }
FN vf set1(float x) { return _mm512_set1_ps(x); }
FN vi seti(int32_t x) { return _mm512_set1_epi32(x); }

FN vf add(vf a, vf b) { return _mm512_add_ps(a, b); }
FN vf sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
FN vf mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
FN vf div(vf a, vf b) { return _mm512_div_ps(a, b); }
FN vf fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }    // a*b + c
FN vf fnma(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a*b
FN vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
FN vf vmin(vf a, vf b) { return _mm512_min_ps(a, b); }
FN vf sqrt(vf a) { return _mm512_sqrt_ps(a); }
FN float hsum(vf a) { return _mm512_reduce_add_ps(a); }
FN float hmax(vf a) { return _mm512_reduce_max_ps(a); }

FN vf band(vf a, vf b) { return _mm512_and_ps(a, b); }
FN vf bor(vf a, vf b) { return _mm512_or_ps(a, b); }
FN vf bxor(vf a, vf b) { return _mm512_xor_ps(a, b); }
FN vf bandnot(vf a, vf b) { return _mm512_andnot_ps(a, b); }  // ~a & b

FN vm lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
FN vm le(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
FN vm gt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
FN vm ge(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
FN vm eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
FN vm neq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ); }  // true when unordered
FN vm unord(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q); }
FN vf select(vm m, vf t, vf f) { return _mm512_mask_blend_ps(m, f, t); }
FN bool any(vm m) { return m != 0; }

FN vi asint(vf a) { return _mm512_castps_si512(a); }
FN vf asfloat(vi a) { return _mm512_castsi512_ps(a); }
FN vi iadd(vi a, vi b) { return _mm512_add_epi32(a, b); }
FN vi isub(vi a, vi b) { return _mm512_sub_epi32(a, b); }
FN vi iand(vi a, vi b) { return _mm512_and_si512(a, b); }
FN vi imin(vi a, vi b) { return _mm512_min_epi32(a, b); }
template <int K> FN vi isll(vi a) { return _mm512_slli_epi32(a, K); }
template <int K> FN vi isrl(vi a) { return _mm512_srli_epi32(a, K); }
template <int K> FN vi isra(vi a) { return _mm512_srai_epi32(a, K); }
FN vf tofloat(vi a) { return _mm512_cvtepi32_ps(a); }
#undef FN
}  // namespace avx512

namespace avx2 {
#define FN MOELAB_TARGET_AVX2 __attribute__((always_inline)) inline
constexpr int W = 8;
using vf = __m256;
using vi = __m256i;
using vm = __m256;

FN __m256i first(size_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
FN vf load(const float* p) { return _mm256_loadu_ps(p); }
FN vf loadn(const float* p, size_t n) { return _mm256_maskload_ps(p, first(n)); }
FN void store(float* p, vf v) { _mm256_storeu_ps(p, v); }
FN void storen(float* p, vf v, size_t n) { _mm256_maskstore_ps(p, first(n), v); }
FN vf set1(float x) { return _mm256_set1_ps(x); }
FN vi seti(int32_t x) { return _mm256_set1_epi32(x); }

FN vf add(vf a, vf b) { return _mm256_add_ps(a, b); }
FN vf sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
FN vf mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
FN vf div(vf a, vf b) { return _mm256_div_ps(a, b); }
FN vf fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
FN vf fnma(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
FN vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
FN vf vmin(vf a, vf b) { return _mm256_min_ps(a, b); }
FN vf sqrt(vf a) { return _mm256_sqrt_ps(a); }
FN float hsum(vf a) {
  const __m128 q = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 h = _mm_add_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}
FN float hmax(vf a) {
  const __m128 q = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  const __m128 h = _mm_max_ps(q, _mm_movehl_ps(q, q));
  return _mm_cvtss_f32(_mm_max_ss(h, _mm_movehdup_ps(h)));
}

FN vf band(vf a, vf b) { return _mm256_and_ps(a, b); }
FN vf bor(vf a, vf b) { return _mm256_or_ps(a, b); }
FN vf bxor(vf a, vf b) { return _mm256_xor_ps(a, b); }
FN vf bandnot(vf a, vf b) { return _mm256_andnot_ps(a, b); }

FN vm lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
FN vm le(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
FN vm gt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
FN vm ge(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
FN vm eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
FN vm neq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_NEQ_UQ); }
FN vm unord(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }
FN vf select(vm m, vf t, vf f) { return _mm256_blendv_ps(f, t, m); }
FN bool any(vm m) { return _mm256_movemask_ps(m) != 0; }

FN vi asint(vf a) { return _mm256_castps_si256(a); }
FN vf asfloat(vi a) { return _mm256_castsi256_ps(a); }
FN vi iadd(vi a, vi b) { return _mm256_add_epi32(a, b); }
FN vi isub(vi a, vi b) { return _mm256_sub_epi32(a, b); }
FN vi iand(vi a, vi b) { return _mm256_and_si256(a, b); }
FN vi imin(vi a, vi b) { return _mm256_min_epi32(a, b); }
template <int K> FN vi isll(vi a) { return _mm256_slli_epi32(a, K); }
template <int K> FN vi isrl(vi a) { return _mm256_srli_epi32(a, K); }
template <int K> FN vi isra(vi a) { return _mm256_srai_epi32(a, K); }
FN vf tofloat(vi a) { return _mm256_cvtepi32_ps(a); }
#undef FN
}  // namespace avx2

// One lane in plain C++: the fallback for CPUs without AVX2+FMA (and MOELAB_ISA=scalar). fma is a*b + c rounded
// twice (a software fmaf would be slow), so results may differ from the vector paths in the last bit.
namespace scalar {
#define FN inline
constexpr int W = 1;
using vf = float;
using vi = int32_t;
using vm = bool;

FN vf load(const float* p) { return *p; }
FN vf loadn(const float* p, size_t) { return *p; }
FN void store(float* p, vf v) { *p = v; }
FN void storen(float* p, vf v, size_t) { *p = v; }
FN vf set1(float x) { return x; }
FN vi seti(int32_t x) { return x; }

FN vf add(vf a, vf b) { return a + b; }
FN vf sub(vf a, vf b) { return a - b; }
FN vf mul(vf a, vf b) { return a * b; }
FN vf div(vf a, vf b) { return a / b; }
FN vf fma(vf a, vf b, vf c) { return a * b + c; }
FN vf fnma(vf a, vf b, vf c) { return c - a * b; }
FN vf vmax(vf a, vf b) { return a > b ? a : b; }
FN vf vmin(vf a, vf b) { return a < b ? a : b; }
FN vf sqrt(vf a) { return __builtin_sqrtf(a); }
FN float hsum(vf a) { return a; }
FN float hmax(vf a) { return a; }

FN vi asint(vf a) { return std::bit_cast<int32_t>(a); }
FN vf asfloat(vi a) { return std::bit_cast<float>(a); }
FN vf band(vf a, vf b) { return asfloat(asint(a) & asint(b)); }
FN vf bor(vf a, vf b) { return asfloat(asint(a) | asint(b)); }
FN vf bxor(vf a, vf b) { return asfloat(asint(a) ^ asint(b)); }
FN vf bandnot(vf a, vf b) { return asfloat(~asint(a) & asint(b)); }

FN vm lt(vf a, vf b) { return a < b; }
FN vm le(vf a, vf b) { return a <= b; }
FN vm gt(vf a, vf b) { return a > b; }
FN vm ge(vf a, vf b) { return a >= b; }
FN vm eq(vf a, vf b) { return a == b; }
FN vm neq(vf a, vf b) { return !(a == b); }
FN vm unord(vf a, vf b) { return a != a || b != b; }
FN vf select(vm m, vf t, vf f) { return m ? t : f; }
FN bool any(vm m) { return m; }

FN vi iadd(vi a, vi b) { return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }
FN vi isub(vi a, vi b) { return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b)); }
FN vi iand(vi a, vi b) { return a & b; }
FN vi imin(vi a, vi b) { return a < b ? a : b; }
template <int K> FN vi isll(vi a) { return static_cast<int32_t>(static_cast<uint32_t>(a) << K); }
template <int K> FN vi isrl(vi a) { return static_cast<int32_t>(static_cast<uint32_t>(a) >> K); }
template <int K> FN vi isra(vi a) { return a >> K; }
FN vf tofloat(vi a) { return static_cast<float>(a); }
#undef FN
}  // namespace scalar

}  // namespace moelab::simd
