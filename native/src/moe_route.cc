// MoE dispatch and combine (lib/moe/ops.ts): copy tokens into the expert-sorted slot buffer, add slot outputs back to
// their tokens with their gate weights, and the weight gradient (one dot product per slot). Each output row is
// written by one thread (combine walks each token's slots through a CSR), so no atomics and a fixed summation order.
// Reference: DeepSeek-V3 model.py MoE.forward (y[idx] += expert(x[idx]) * weights[idx, top, None]).
//   moeDispatch(x: F32 [T·d], slotToken: I32 [M], weights: F32 [M] | null, d, out: F32 [M·d]):
//     out[s] = weights[s]·x[slotToken[s]] (weight 1 when null).
//   moeCombine(ys: F32 [M·d], weights: F32 [M] | null, tokenStart: I32 [T+1], tokenSlots: I32 [M], d, out: F32 [T·d]):
//     out[t] = Σ_{i ∈ [tokenStart[t], tokenStart[t+1])} weights[s]·ys[s], s = tokenSlots[i] (0 for a token with none).
//   moeSlotDot(a: F32 [T·d], b: F32 [M·d], slotToken: I32 [M], d, out: F32 [M]): out[s] = <a[slotToken[s]], b[s]>
//     (vectorised per ISA, float lanes summed in double).
#include <algorithm>
#include <cstring>

#include "layout.h"
#include "pool.h"
#include "reduce_simd.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

constexpr int64_t kTaskElements = 1 << 14;  // elements one parallel task should touch at least

size_t row_grain(int64_t d) { return static_cast<size_t>(std::max<int64_t>(1, kTaskElements / std::max<int64_t>(d, 1))); }

// The optional weights at info[index]: null, or a Float32Array of `n` entries.
bool weights_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, size_t n, View<float>& out) {
  if (info.Length() > index && info[index].IsNull()) {
    out = View<float>{};
    return true;
  }
  return f32_arg(info, fn, index, out) && require(info, out.size == n, fn, "weights must have one entry per slot");
}

// Every index in [0, bound), or false after throwing.
bool indices_in(const Napi::CallbackInfo& info, const char* fn, const View<int32_t>& idx, int64_t bound, const char* what) {
  for (size_t i = 0; i < idx.size; i++) {
    if (idx.data[i] < 0 || idx.data[i] >= bound) return require(info, false, fn, std::string(what) + " has an entry out of range");
  }
  return true;
}

Napi::Value Dispatch(const Napi::CallbackInfo& info) {
  const char* fn = "moeDispatch";
  View<float> x, w, out;
  View<int32_t> token;
  int64_t d;
  if (!f32_arg(info, fn, 0, x) || !i32_arg(info, fn, 1, token) || !weights_arg(info, fn, 2, token.size, w) ||
      !dim_arg(info, fn, 3, d) || !f32_arg(info, fn, 4, out)) {
    return info.Env().Undefined();
  }
  const int64_t T = d > 0 ? static_cast<int64_t>(x.size) / d : 0, M = static_cast<int64_t>(token.size);
  if (!require(info, d > 0 && T * d == static_cast<int64_t>(x.size), fn, "x must hold whole rows of d") ||
      !require(info, static_cast<int64_t>(out.size) == M * d, fn, "out must have M·d entries") ||
      !indices_in(info, fn, token, T, "slotToken")) {
    return info.Env().Undefined();
  }
  parallel_for(M, row_grain(d), [&](size_t begin, size_t end) {
    for (size_t s = begin; s < end; s++) {
      const float* src = x.data + token.data[s] * d;
      float* dst = out.data + s * d;
      if (!w.data) {
        std::memcpy(dst, src, d * sizeof(float));
        continue;
      }
      const float ws = w.data[s];
      for (int64_t j = 0; j < d; j++) dst[j] = ws * src[j];
    }
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("moeDispatch", Dispatch);

Napi::Value Combine(const Napi::CallbackInfo& info) {
  const char* fn = "moeCombine";
  View<float> ys, w, out;
  View<int32_t> start, slots;
  int64_t d;
  if (!f32_arg(info, fn, 0, ys) || !i32_arg(info, fn, 3, slots) || !weights_arg(info, fn, 1, slots.size, w) ||
      !i32_arg(info, fn, 2, start) || !dim_arg(info, fn, 4, d) || !f32_arg(info, fn, 5, out)) {
    return info.Env().Undefined();
  }
  const int64_t M = static_cast<int64_t>(slots.size), T = static_cast<int64_t>(start.size) - 1;
  bool csr = T >= 0 && start.data[0] == 0 && start.data[T] == M;
  for (int64_t t = 0; csr && t < T; t++) csr = start.data[t] <= start.data[t + 1];
  if (!require(info, d > 0 && static_cast<int64_t>(ys.size) == M * d, fn, "ys must have M·d entries") ||
      !require(info, csr, fn, "tokenStart must rise from 0 to the number of slots") ||
      !require(info, static_cast<int64_t>(out.size) == T * d, fn, "out must have T·d entries") ||
      !indices_in(info, fn, slots, M, "tokenSlots")) {
    return info.Env().Undefined();
  }
  parallel_for(T, row_grain(d), [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; t++) {
      float* dst = out.data + t * d;
      std::fill(dst, dst + d, 0.f);
      for (int32_t i = start.data[t]; i < start.data[t + 1]; i++) {
        const int32_t s = slots.data[i];
        const float ws = w.data ? w.data[s] : 1.f;
        const float* src = ys.data + static_cast<int64_t>(s) * d;
        for (int64_t j = 0; j < d; j++) dst[j] += ws * src[j];
      }
    }
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("moeCombine", Combine);

// out[s] = <a[token[s]], b[s]> for slots [begin, end): two vector accumulators of W lanes, lanes and tail summed in
// double.
template <int W>
MOELAB_INLINE void slot_dots_impl(const float* a, const float* b, const int32_t* token, int64_t d, float* out,
                                  size_t begin, size_t end) {
  using F = typename simd::V<W>::f32;
  for (size_t s = begin; s < end; s++) {
    const float* x = a + static_cast<int64_t>(token[s]) * d;
    const float* y = b + static_cast<int64_t>(s) * d;
    F acc0{}, acc1{};
    int64_t j = 0;
    for (; j + 2 * W <= d; j += 2 * W) {
      acc0 += simd::load<W>(x + j) * simd::load<W>(y + j);
      acc1 += simd::load<W>(x + j + W) * simd::load<W>(y + j + W);
    }
    if (j + W <= d) {
      acc0 += simd::load<W>(x + j) * simd::load<W>(y + j);
      j += W;
    }
    acc0 += acc1;
    double total = 0;
    for (int i = 0; i < W; i++) total += acc0[i];
    for (; j < d; j++) total += static_cast<double>(x[j]) * y[j];
    out[s] = static_cast<float>(total);
  }
}
MOELAB_SIMD_VARIANTS(void, slot_dots,
                     (const float* a, const float* b, const int32_t* token, int64_t d, float* out, size_t begin,
                      size_t end),
                     (a, b, token, d, out, begin, end))

Napi::Value SlotDot(const Napi::CallbackInfo& info) {
  const char* fn = "moeSlotDot";
  View<float> a, b, out;
  View<int32_t> token;
  int64_t d;
  if (!f32_arg(info, fn, 0, a) || !f32_arg(info, fn, 1, b) || !i32_arg(info, fn, 2, token) || !dim_arg(info, fn, 3, d) ||
      !f32_arg(info, fn, 4, out)) {
    return info.Env().Undefined();
  }
  const int64_t T = d > 0 ? static_cast<int64_t>(a.size) / d : 0, M = static_cast<int64_t>(token.size);
  if (!require(info, d > 0 && T * d == static_cast<int64_t>(a.size), fn, "a must hold whole rows of d") ||
      !require(info, static_cast<int64_t>(b.size) == M * d && static_cast<int64_t>(out.size) == M, fn,
               "b must have M·d entries and out M") ||
      !indices_in(info, fn, token, T, "slotToken")) {
    return info.Env().Undefined();
  }
  const auto dots = slot_dots_for_isa();
  parallel_for(M, row_grain(d), [&](size_t begin, size_t end) { dots(a.data, b.data, token.data, d, out.data, begin, end); });
  return info.Env().Undefined();
}
MOELAB_EXPORT("moeSlotDot", SlotDot);

}  // namespace
}  // namespace moelab
