// Fused causal attention, forward and backward. Full causal attention of moderate length runs as batched GEMMs
// (attention_gemm.cc); a sliding window, or scores too large for its scratch, run the row kernels here: one pool task
// per (batch, key/value head) with its g = H/Hkv query heads: scores, the causal (and optional sliding-window + global-token) visibility, softmax and the weighted sum of
// values in one pass per query row, no [T, S] score or mask tensor in memory; the backward recomputes the
// probabilities from the saved log-sum-exp (FlashAttention's recipe, Dao et al. 2022, without the tiling).
//   attentionForward(q, k, v, out, lse, dims: Float64Array[B, H, Hkv, T, S, dk, dv], scale, offset, window, global)
//   attentionBackward(q, k, v, out, lse, dout, dq, dk, dv, dims, scale, offset, window, global)
// q [B, H, T, dk], k [B, Hkv, S, dk], v [B, Hkv, S, dv], out [B, H, T, dv], lse [B, H, T]; the query t sits at position
// offset + t and key j at position j; window 0 = none.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "attention_gemm.h"
#include "cpu.h"
#include "elementwise_simd.h"
#include "layout.h"
#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

#define MOELAB_KERNELS "attention_kernels.h"
#include "per_isa.h"

#define MOELAB_ISA_CALL(name, ...)                                                     \
  (best_isa() == Isa::avx512 ? isa_avx512::name(__VA_ARGS__)                           \
   : best_isa() == Isa::avx2 ? isa_avx2::name(__VA_ARGS__)                             \
                             : isa_scalar::name(__VA_ARGS__))

using Dims = AttentionDims;

// Reads dims (a Float64Array of 7 at `index`) and the four numbers after it; checks sizes of the arrays given.
bool dims_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, Dims& d) {
  if (info.Length() < index + 5 || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[index].As<Napi::Float64Array>().ElementLength() != 7) {
    throw_arg(info, fn, index, "a Float64Array [B, H, Hkv, T, S, dk, dv]");
    return false;
  }
  Napi::Float64Array a = info[index].As<Napi::Float64Array>();
  int64_t* f[] = {&d.B, &d.H, &d.Hkv, &d.T, &d.S, &d.dk, &d.dv};
  for (int i = 0; i < 7; i++) {
    if (!(a[i] >= 0 && a[i] == std::floor(a[i]))) {
      throw_arg(info, fn, index, "non-negative integer dims");
      return false;
    }
    *f[i] = static_cast<int64_t>(a[i]);
  }
  for (size_t i = index + 1; i < index + 5; i++) {
    if (!info[i].IsNumber()) {
      throw_arg(info, fn, i, "a number");
      return false;
    }
  }
  d.scale = info[index + 1].As<Napi::Number>().FloatValue();
  d.offset = info[index + 2].As<Napi::Number>().Int64Value();
  d.window = info[index + 3].As<Napi::Number>().Int64Value();
  d.global = info[index + 4].As<Napi::Number>().Int64Value();
  if (d.Hkv == 0 || d.H % d.Hkv != 0) {
    throw_arg(info, fn, index, "dims with Hkv dividing H");
    return false;
  }
  return true;
}

bool sized(const Napi::CallbackInfo& info, const char* fn, const View<float>& v, int64_t n, const char* what) {
  return require(info, static_cast<int64_t>(v.size) == n, fn, std::string(what) + " has the wrong size for dims");
}

// Work of one group: ~2·g·T·S·(dk + dv) flops; below ~64K a task the pool costs more than it saves.
size_t group_grain(const Dims& d) {
  const double work = 2.0 * static_cast<double>(d.H / d.Hkv) * d.T * d.S * static_cast<double>(d.dk + d.dv);
  return work >= 65536 ? 1 : static_cast<size_t>(std::ceil(65536 / std::max(work, 1.0)));
}

Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  const char* fn = "attentionForward";
  View<float> q, k, v, out, lse;
  Dims d;
  if (!f32_arg(info, fn, 0, q) || !f32_arg(info, fn, 1, k) || !f32_arg(info, fn, 2, v) || !f32_arg(info, fn, 3, out) ||
      !f32_arg(info, fn, 4, lse) || !dims_arg(info, fn, 5, d))
    return info.Env().Undefined();
  if (!sized(info, fn, q, d.B * d.H * d.T * d.dk, "q") || !sized(info, fn, k, d.B * d.Hkv * d.S * d.dk, "k") ||
      !sized(info, fn, v, d.B * d.Hkv * d.S * d.dv, "v") || !sized(info, fn, out, d.B * d.H * d.T * d.dv, "out") ||
      !sized(info, fn, lse, d.B * d.H * d.T, "lse"))
    return info.Env().Undefined();
  if (attention_gemm_applies(d)) {
    require(info, attention_forward_gemm(d, q.data, k.data, v.data, out.data, lse.data), fn,
            "out of memory for the attention scores");
    return info.Env().Undefined();
  }
  const int64_t g = d.H / d.Hkv;
  parallel_for(static_cast<size_t>(d.B * d.Hkv), group_grain(d), [&](size_t b0, size_t b1) {
    std::vector<float> kt(static_cast<size_t>(d.dk * d.S)), s(static_cast<size_t>(std::max<int64_t>(d.S, 1)));
    for (size_t i = b0; i < b1; i++) {
      const int64_t bi = static_cast<int64_t>(i);  // b·Hkv + kv head; its query heads are g consecutive heads
      MOELAB_ISA_CALL(attention_forward_group, q.data + bi * g * d.T * d.dk, k.data + bi * d.S * d.dk,
                      v.data + bi * d.S * d.dv, out.data + bi * g * d.T * d.dv, lse.data + bi * g * d.T, g, d.T, d.S,
                      d.dk, d.dv, d.scale, d.offset, d.window, d.global, kt.data(), s.data());
    }
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("attentionForward", AttentionForward);

Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  const char* fn = "attentionBackward";
  View<float> q, k, v, out, lse, dout, dq, dk, dv;
  Dims d;
  if (!f32_arg(info, fn, 0, q) || !f32_arg(info, fn, 1, k) || !f32_arg(info, fn, 2, v) || !f32_arg(info, fn, 3, out) ||
      !f32_arg(info, fn, 4, lse) || !f32_arg(info, fn, 5, dout) || !f32_arg(info, fn, 6, dq) ||
      !f32_arg(info, fn, 7, dk) || !f32_arg(info, fn, 8, dv) || !dims_arg(info, fn, 9, d))
    return info.Env().Undefined();
  if (!sized(info, fn, q, d.B * d.H * d.T * d.dk, "q") || !sized(info, fn, k, d.B * d.Hkv * d.S * d.dk, "k") ||
      !sized(info, fn, v, d.B * d.Hkv * d.S * d.dv, "v") || !sized(info, fn, out, d.B * d.H * d.T * d.dv, "out") ||
      !sized(info, fn, lse, d.B * d.H * d.T, "lse") || !sized(info, fn, dout, d.B * d.H * d.T * d.dv, "dout") ||
      !sized(info, fn, dq, d.B * d.H * d.T * d.dk, "dq") || !sized(info, fn, dk, d.B * d.Hkv * d.S * d.dk, "dk") ||
      !sized(info, fn, dv, d.B * d.Hkv * d.S * d.dv, "dv"))
    return info.Env().Undefined();
  if (attention_gemm_applies(d)) {
    require(info,
            attention_backward_gemm(d, q.data, k.data, v.data, out.data, lse.data, dout.data, dq.data, dk.data,
                                    dv.data),
            fn, "out of memory for the attention scores");
    return info.Env().Undefined();
  }
  const int64_t g = d.H / d.Hkv;
  parallel_for(static_cast<size_t>(d.B * d.Hkv), group_grain(d), [&](size_t b0, size_t b1) {
    const size_t S1 = static_cast<size_t>(std::max<int64_t>(d.S, 1));
    std::vector<float> kt(static_cast<size_t>(d.dk * d.S)), vt(static_cast<size_t>(d.dv * d.S)), s(S1), dp(S1);
    for (size_t i = b0; i < b1; i++) {
      const int64_t bi = static_cast<int64_t>(i);
      const int64_t qo = bi * g * d.T;
      MOELAB_ISA_CALL(attention_backward_group, q.data + qo * d.dk, k.data + bi * d.S * d.dk, v.data + bi * d.S * d.dv,
                      out.data + qo * d.dv, lse.data + qo, dout.data + qo * d.dv, dq.data + qo * d.dk,
                      dk.data + bi * d.S * d.dk, dv.data + bi * d.S * d.dv, g, d.T, d.S, d.dk, d.dv, d.scale, d.offset,
                      d.window, d.global, kt.data(), vt.data(), s.data(), dp.data());
    }
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("attentionBackward", AttentionBackward);

}  // namespace
}  // namespace moelab
