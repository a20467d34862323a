// TopK along the last axis for small k (the MoE gates' top-k experts and top groups): per row, one pass keeping the k
// best (value, index) pairs by insertion — O(n·k), no per-element objects as in tfjs's cpu kernel. Order: value
// descending, ties by lower index (tfjs's comparePair). Rows with NaN are left to the caller (tfjs's cpu kernel).
//   topk(x: Float32Array, rows, n, k, values: Float32Array, indices: Int32Array) -> false if a row holds NaN (nothing
//   is guaranteed written then), true otherwise.
#include <cmath>
#include <cstdint>

#include "layout.h"
#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

// Row r's k best into vals/idx (sorted); false on NaN.
bool top_row(const float* x, int64_t n, int64_t k, float* vals, int32_t* idx) {
  int64_t filled = 0;
  for (int64_t j = 0; j < n; j++) {
    const float v = x[j];
    if (std::isnan(v)) return false;
    if (filled == k && !(v > vals[k - 1])) continue;  // equal values keep the earlier index
    int64_t p = filled < k ? filled++ : k - 1;
    while (p > 0 && v > vals[p - 1]) {
      vals[p] = vals[p - 1];
      idx[p] = idx[p - 1];
      p--;
    }
    vals[p] = v;
    idx[p] = static_cast<int32_t>(j);
  }
  return true;
}

Napi::Value TopK(const Napi::CallbackInfo& info) {
  const char* fn = "topk";
  View<float> x, vals;
  View<int32_t> idx;
  int64_t rows, n, k;
  if (!f32_arg(info, fn, 0, x) || !dim_arg(info, fn, 1, rows) || !dim_arg(info, fn, 2, n) || !dim_arg(info, fn, 3, k) ||
      !f32_arg(info, fn, 4, vals) || !i32_arg(info, fn, 5, idx))
    return info.Env().Undefined();
  if (!require(info, k >= 1 && k <= n && static_cast<int64_t>(x.size) == rows * n &&
                         static_cast<int64_t>(vals.size) == rows * k && static_cast<int64_t>(idx.size) == rows * k,
               fn, "expected 1 ≤ k ≤ n, x of rows·n and values, indices of rows·k"))
    return info.Env().Undefined();
  bool ok = true;  // written by tasks only to clear it
  const size_t grain = std::max<size_t>(1, (size_t(1) << 14) / static_cast<size_t>(std::max<int64_t>(n * k, 1)));
  parallel_for(static_cast<size_t>(rows), grain, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++)
      if (!top_row(x.data + r * n, n, k, vals.data + r * k, idx.data + r * k)) __atomic_store_n(&ok, false, __ATOMIC_RELAXED);
  });
  return Napi::Boolean::New(info.Env(), ok);
}
MOELAB_EXPORT("topk", TopK);

}  // namespace
}  // namespace moelab
