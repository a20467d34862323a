// Softmax over the last axis of a float32 tensor, row by row, rows spread over the pool: m = max (NaN if the row has
// a NaN, as tfjs cpu), e = exp(x - m) with the vector exp of reduce_simd.h, s = Σ e accumulated in double (like cpu),
// y = e / float(s). Subtracting the max keeps every exponent ≤ 0, so huge logits cannot overflow. Max relative error
// vs a float64 softmax of the float32 shifted logits: 1.6e-7, as cpu (64 rows of 301, N(0, 5²) logits).
// tfjs composes LogSoftmax (ops/log_softmax) from Max, Sub, Exp, Sum and Log kernels; there is no kernel to replace.
// Reference: tfjs-backend-cpu kernels/Softmax (the same steps, unfused).
#include <algorithm>

#include "layout.h"
#include "pool.h"
#include "reduce_simd.h"
#include "registry.h"

namespace moelab {
namespace {

template <int W>
MOELAB_INLINE void softmax_row(const float* x, float* y, size_t n) {
  using f32 = typename simd::V<W>::f32;
  const f32 s = simd::splat<W>(static_cast<float>(simd::exp_shifted_row<W>(x, y, n, simd::max_row<W>(x, n))));
  size_t i = 0;
  for (; i + W <= n; i += W) simd::store<W>(y + i, simd::load<W>(y + i) / s);
  if (i < n) simd::store_part<W>(y + i, simd::load_part<W>(y + i, n - i, 0.f) / s, n - i);
}

template <int W>
MOELAB_INLINE void softmax_rows_impl(const float* x, float* y, size_t n, size_t begin, size_t end) {
  for (size_t r = begin; r < end; r++) softmax_row<W>(x + r * n, y + r * n, n);
}
MOELAB_SIMD_VARIANTS(void, softmax_rows, (const float* x, float* y, size_t n, size_t begin, size_t end),
                     (x, y, n, begin, end))

// softmax(x: Float32Array, n: number, out: Float32Array): out = softmax of each row of n elements of x.
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const char* fn = "softmax";
  View<float> x, out;
  int64_t n;
  if (!f32_arg(info, fn, 0, x) || !int_arg(info, fn, 1, n) || !f32_arg(info, fn, 2, out)) {
    return info.Env().Undefined();
  }
  if (!require(info, n > 0 && x.size % n == 0, fn, "n must divide the size of x") ||
      !require(info, out.size == x.size, fn, "out must have the size of x")) {
    return info.Env().Undefined();
  }
  const size_t rows = x.size / n;
  const size_t grain = std::max<size_t>(1, 8192 / n);
  auto kernel = softmax_rows_for_isa();
  parallel_for(rows, grain, [&](size_t b, size_t e) { kernel(x.data, out.data, n, b, e); });
  return info.Env().Undefined();
}
MOELAB_EXPORT("softmax", Softmax);

}  // namespace
}  // namespace moelab
