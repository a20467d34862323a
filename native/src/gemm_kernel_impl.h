// The sgemm micro-kernel and epilogue, written once over a SIMD vector type V. Each ISA's translation unit
// (gemm_avx512.cc, gemm_avx2.cc, gemm_portable.cc) defines V, GEMM_FN (the target attribute for kernel functions) and
// GEMM_INL (the same, always inlined), then includes this file; the anonymous namespace keeps each ISA's copies apart,
// so the linker can never merge an AVX-512 instantiation into the AVX2 path.
//
// V provides: T (vector), Tail (a partial-vector mask), Mask (a lane predicate), L (lanes), zero, set1, broadcast, load,
// store, tail(n), load_tail, store_tail, add, sub, mul, div, min, max (SSE semantics: an unordered compare returns the
// second operand), fmadd(a,b,c) = a·b + c, fnmadd(a,b,c) = c − a·b, abs, round (to nearest even), ldexp(p, n) = p·2ⁿ,
// lt, ge, select(mask, if_true, if_false) and transpose(T rows[L]) (an in-register L×L transpose).
#pragma once
#include <algorithm>
#include <cstdint>

#include "gemm_kernel.h"

#if !defined(GEMM_FN) || !defined(GEMM_INL)
#error "define GEMM_FN and GEMM_INL before including gemm_kernel_impl.h"
#endif

namespace moelab::gemm {
namespace {

// e^x (Cephes expf: Cody-Waite reduction by ln 2 and a degree-6 polynomial, ~1 ulp). x is clamped so 2ⁿ stays in
// range; NaN propagates (the clamps return their second operand when unordered).
template <class V>
GEMM_INL typename V::T vexp(typename V::T x) {
  using T = typename V::T;
  x = V::min(V::set1(88.7228391f), V::max(V::set1(-87.3365448f), x));
  const T n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  T r = V::fnmadd(n, V::set1(0.693359375f), x);
  r = V::fnmadd(n, V::set1(-2.12194440e-4f), r);
  T p = V::set1(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
  p = V::fmadd(p, V::mul(r, r), V::add(r, V::set1(1.0f)));
  return V::ldexp(p, n);
}

// e^x − 1 without cancellation near 0: a degree-8 Taylor polynomial for |x| < 0.5 (truncation < 2e-8 relative),
// e^x − 1 elsewhere.
template <class V>
GEMM_INL typename V::T vexpm1(typename V::T x) {
  using T = typename V::T;
  T p = V::set1(1.0f / 40320);
  p = V::fmadd(p, x, V::set1(1.0f / 5040));
  p = V::fmadd(p, x, V::set1(1.0f / 720));
  p = V::fmadd(p, x, V::set1(1.0f / 120));
  p = V::fmadd(p, x, V::set1(1.0f / 24));
  p = V::fmadd(p, x, V::set1(1.0f / 6));
  p = V::fmadd(p, x, V::set1(0.5f));
  p = V::fmadd(p, x, V::set1(1.0f));
  const T small = V::mul(p, x);
  const T large = V::sub(vexp<V>(x), V::set1(1.0f));
  return V::select(V::lt(V::abs(x), V::set1(0.5f)), small, large);
}

// tfjs's activations (kernels Relu, Relu6, Elu, Sigmoid, LeakyRelu, Prelu); w is the leakyrelu alpha or the prelu
// slopes. NaN inputs stay NaN, as Math.max/Math.min keep them.
template <class V, Activation A>
GEMM_INL typename V::T activate(typename V::T x, typename V::T w) {
  const typename V::T zero = V::zero();
  if constexpr (A == Activation::relu) return V::max(zero, x);
  if constexpr (A == Activation::relu6) return V::min(V::set1(6.0f), V::max(zero, x));
  if constexpr (A == Activation::elu) return V::select(V::ge(x, zero), x, vexpm1<V>(x));
  if constexpr (A == Activation::sigmoid) {
    const typename V::T one = V::set1(1.0f);
    return V::div(one, V::add(one, vexp<V>(V::sub(zero, x))));
  }
  if constexpr (A == Activation::leakyrelu || A == Activation::prelu) return V::select(V::lt(x, zero), V::mul(w, x), x);
  return x;
}

template <class V, int MR, int NV>
struct Impl {
  using T = typename V::T;
  static constexpr int L = V::L;
  static constexpr int NR = NV * L;

  // The register tile: R rows by NU vectors (R <= MR, NU <= NV, both compile-time so the accumulators stay in
  // registers). The loop does NU vector loads of B, R broadcasts of A and R·NU independent FMAs per step.
  template <int R, int NU, bool Direct>
  GEMM_FN static void tile(int64_t kc, const float* __restrict a, const float* __restrict b, int64_t bs,
                           float* __restrict c, int64_t ldc, int cols, bool accumulate, const float* prefetch) {
    T s[R][NU];
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) {
#pragma GCC unroll 4
      for (int v = 0; v < NU; v++) s[i][v] = V::zero();
    }
    // Bring the C tile towards L1 while the loop runs (it is read or written only at the end).
#pragma GCC unroll 16
    for (int i = 0; i < R; i++) {
      __builtin_prefetch(c + i * ldc, 1, 3);
      __builtin_prefetch(c + i * ldc + NU * L - 1, 1, 3);
    }
    typename V::Tail t[NU];
#pragma GCC unroll 4
    for (int v = 0; v < NU; v++) t[v] = V::tail(std::clamp(cols - v * L, 0, L));
#pragma GCC unroll 2
    for (int64_t p = 0; p < kc; p++) {
      T bv[NU];
#pragma GCC unroll 4
      for (int v = 0; v < NU; v++) bv[v] = Direct ? V::load_tail(b + v * L, t[v]) : V::load(b + v * L);
#pragma GCC unroll 16
      for (int i = 0; i < R; i++) {
        const T ai = V::broadcast(a + i);
#pragma GCC unroll 4
        for (int v = 0; v < NU; v++) s[i][v] = V::fmadd(ai, bv[v], s[i][v]);
      }
      if (prefetch) __builtin_prefetch(prefetch + p * 16, 0, 2);
      a += MR;
      b += bs;
    }
    if (cols == NU * L) {
#pragma GCC unroll 16
      for (int i = 0; i < R; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < NU; v++) {
          float* ci = c + i * ldc + v * L;
          V::store(ci, accumulate ? V::add(s[i][v], V::load(ci)) : s[i][v]);
        }
      }
    } else {
#pragma GCC unroll 16
      for (int i = 0; i < R; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < NU; v++) {
          float* ci = c + i * ldc + v * L;
          V::store_tail(ci, t[v], accumulate ? V::add(s[i][v], V::load_tail(ci, t[v])) : s[i][v]);
        }
      }
    }
  }

  using TileInstance = void (*)(int64_t, const float*, const float*, int64_t, float*, int64_t, int, bool,
                                const float*);
  struct Table {
    TileInstance f[MR + 1][NV + 1][2] = {};
  };

  template <int R, int NU>
  static void fill(Table& table) {
    if constexpr (R <= MR) {
      if constexpr (NU <= NV) {
        table.f[R][NU][0] = &tile<R, NU, false>;
        table.f[R][NU][1] = &tile<R, NU, true>;
        fill<R, NU + 1>(table);
      } else {
        fill<R + 1, 1>(table);
      }
    }
  }

  static Table make_table() {
    Table table;
    fill<1, 1>(table);
    return table;
  }

  // TileFn: picks the instance for this tile's rows and vector count.
  static void tile_entry(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int rows,
                         int cols, bool accumulate, bool direct, const float* prefetch) {
    static const Table table = make_table();
    table.f[rows][(cols + L - 1) / L][direct ? 1 : 0](kc, a, b, bs, c, ldc, cols, accumulate, prefetch);
  }

  // PackFn for width W.
  template <int W>
  GEMM_FN static void pack(const float* src, int64_t rs, int64_t cs, int64_t kc, int count, float* dst) {
    if (rs == 1) {
      for (int64_t p = 0; p < kc; p++) {
        const float* s = src + p * cs;
        float* d = dst + p * W;
#pragma GCC unroll 4
        for (int r = 0; r < W; r += L)
          V::store_tail(d + r, V::tail(std::min(L, W - r)), V::load_tail(s + r, V::tail(std::clamp(count - r, 0, L))));
      }
      return;
    }
    for (int r0 = 0; r0 < W; r0 += L) {
      const typename V::Tail out = V::tail(std::min(L, W - r0));
      for (int64_t p0 = 0; p0 < kc; p0 += L) {
        const int np = static_cast<int>(std::min<int64_t>(L, kc - p0));
        const typename V::Tail in = V::tail(np);
        T block[L];
#pragma GCC unroll 16
        for (int i = 0; i < L; i++)
          block[i] = r0 + i < count ? V::load_tail(src + (r0 + i) * rs + p0 * cs, in) : V::zero();
        V::transpose(block);
        for (int q = 0; q < np; q++) V::store_tail(dst + (p0 + q) * W + r0, out, block[q]);
      }
    }
  }

  // FewRowsFn for R rows (compile-time, so the R sums stay in registers next to the L transposed B vectors).
  template <int R>
  GEMM_FN static void few_rows_as(int64_t k, int64_t kc, const float* __restrict a, const float* __restrict b,
                                  int64_t ldb, float* __restrict c, int64_t ldc, int, int64_t cols,
                                  const EpilogueTile* e) {
    for (int64_t j0 = 0; j0 < cols; j0 += L) {
      const int w = static_cast<int>(std::min<int64_t>(L, cols - j0));
      const typename V::Tail out = V::tail(w);
      for (int64_t pc = 0; pc < k; pc += kc) {
        const int64_t kb = std::min(kc, k - pc);
        T s[R];
#pragma GCC unroll 16
        for (int i = 0; i < R; i++) s[i] = V::zero();
        for (int64_t p0 = 0; p0 < kb; p0 += L) {
          const int np = static_cast<int>(std::min<int64_t>(L, kb - p0));
          const typename V::Tail in = V::tail(np);
          T t[L];  // rows j0 + i of the stored B, then (transposed) t[q] = column block's values at step pc + p0 + q
          const float* src = b + j0 * ldb + pc + p0;
          if (w == L && np == L) {  // a whole block: straight-line loads
#pragma GCC unroll 16
            for (int i = 0; i < L; i++) t[i] = V::load(src + i * ldb);
          } else {
#pragma GCC unroll 16
            for (int i = 0; i < L; i++) t[i] = i < w ? V::load_tail(src + i * ldb, in) : V::zero();
          }
          V::transpose(t);
          const float* ap = a + (pc + p0) * MR;
          if (np == L) {
#pragma GCC unroll 16
            for (int q = 0; q < L; q++) {
#pragma GCC unroll 16
              for (int i = 0; i < R; i++) s[i] = V::fmadd(V::broadcast(ap + q * MR + i), t[q], s[i]);
            }
          } else {
            for (int q = 0; q < np; q++) {
#pragma GCC unroll 16
              for (int i = 0; i < R; i++) s[i] = V::fmadd(V::broadcast(ap + q * MR + i), t[q], s[i]);
            }
          }
        }
#pragma GCC unroll 16
        for (int i = 0; i < R; i++) {
          float* ci = c + i * ldc + j0;
          V::store_tail(ci, out, pc > 0 ? V::add(s[i], V::load_tail(ci, out)) : s[i]);
        }
      }
      if (e) {  // on the block while it is in L1, like the tile's epilogue
        EpilogueTile at = *e;
        if (at.bias) at.bias += j0 * at.bias_cs;
        if (at.prelu) at.prelu += j0 * at.prelu_cs;
        epilogue(c + j0, ldc, R, w, at);
      }
    }
  }

  struct FewRowsTable {
    FewRowsFn f[MR + 1] = {};
  };

  template <int R>
  static void fill_few_rows(FewRowsTable& table) {
    if constexpr (R <= MR) {
      table.f[R] = &few_rows_as<R>;
      fill_few_rows<R + 1>(table);
    }
  }

  // FewRowsFn: picks the instance for this product's rows.
  static void few_rows(int64_t k, int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                       int rows, int64_t cols, const EpilogueTile* e) {
    static const FewRowsTable table = [] {
      FewRowsTable t;
      fill_few_rows<1>(t);
      return t;
    }();
    table.f[rows](k, kc, a, b, ldb, c, ldc, rows, cols, e);
  }

  template <Activation A>
  GEMM_FN static void epilogue_as(float* c, int64_t ldc, int rows, int cols, const EpilogueTile& e) {
    const T alpha = V::set1(e.alpha);
    for (int r = 0; r < rows; r++) {
      float* row = c + r * ldc;
      const float* bias = e.bias ? e.bias + r * e.bias_rs : nullptr;
      const float* slopes = A == Activation::prelu ? e.prelu + r * e.prelu_rs : nullptr;
      for (int j = 0; j < cols; j += L) {
        const typename V::Tail t = V::tail(std::min(L, cols - j));
        T x = V::load_tail(row + j, t);
        if (bias) x = V::add(x, e.bias_cs ? V::load_tail(bias + j, t) : V::set1(bias[0]));
        T w = alpha;
        if constexpr (A == Activation::prelu) w = e.prelu_cs ? V::load_tail(slopes + j, t) : V::set1(slopes[0]);
        V::store_tail(row + j, t, activate<V, A>(x, w));
      }
    }
  }

  // EpilogueFn.
  static void epilogue(float* c, int64_t ldc, int rows, int cols, const EpilogueTile& e) {
    switch (e.activation) {
      case Activation::linear: return epilogue_as<Activation::linear>(c, ldc, rows, cols, e);
      case Activation::relu: return epilogue_as<Activation::relu>(c, ldc, rows, cols, e);
      case Activation::relu6: return epilogue_as<Activation::relu6>(c, ldc, rows, cols, e);
      case Activation::elu: return epilogue_as<Activation::elu>(c, ldc, rows, cols, e);
      case Activation::sigmoid: return epilogue_as<Activation::sigmoid>(c, ldc, rows, cols, e);
      case Activation::leakyrelu: return epilogue_as<Activation::leakyrelu>(c, ldc, rows, cols, e);
      case Activation::prelu: return epilogue_as<Activation::prelu>(c, ldc, rows, cols, e);
    }
  }
};

template <class V, int MR, int NV>
KernelSet make_kernel_set(const char* name) {
  using K = Impl<V, MR, NV>;
  return KernelSet{name,          MR, K::NR, &K::tile_entry, &K::epilogue, &K::template pack<MR>, &K::template pack<K::NR>,
                   &K::few_rows};
}

}  // namespace
}  // namespace moelab::gemm
