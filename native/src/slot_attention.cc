// Decode attention over a KV cache's slot buffers (lib/ops/slot-attention.ts): per-row query and key positions decide
// visibility (causal, padding, sliding window + global tokens) inside the kernel, the buffers are read in place up to
// the S slots in use (their capacity beyond is never touched), one pool task per (row, key/value head) with its
// g = H/Hkv query heads (GQA/MQA; MLA absorbed is one kv head of width kvLoraRank + rope whose values are its first
// kvLoraRank columns). Forward only: decoding needs no gradient. Reference: vLLM's paged-attention decode kernel
// (per-sequence context lengths over a block table), here with one contiguous slot range per row.
//   slotAttention(q, k, v, qpos, kpos, out, dims: Float64Array[B, H, Hkv, T, S, cap, dk, kw, dv, vw], scale, window, global)
// q [B, H, T, dk], k [B, Hkv, cap, kw], v [B, Hkv, cap, vw], qpos [B, T], kpos [B, S] int32, out [B, H, T, dv].
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu.h"
#include "elementwise_simd.h"
#include "layout.h"
#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

// Flops per pool task (at least): the pool pays off only above ~0.1-0.2 ms of work (gemm.cc kParallelFlops), which
// this kernel (exp, scalar position checks) reaches near 10⁶ flops. Batch-1 decode (~10⁵ flops over all heads of the
// small preset) then stays on the caller: with 2¹⁶ flops per task it went to the pool, and a CPU profile of 600 decode
// steps (loaded machine) showed the call at 17% of the process's time with two threads against 2% with one.
constexpr double kTaskFlops = double(1 << 20);

#define MOELAB_KERNELS "slot_attention_kernels.h"
#include "per_isa.h"

#define MOELAB_ISA_CALL(name, ...)                                                     \
  (best_isa() == Isa::avx512 ? isa_avx512::name(__VA_ARGS__)                           \
   : best_isa() == Isa::avx2 ? isa_avx2::name(__VA_ARGS__)                             \
                             : isa_scalar::name(__VA_ARGS__))

Napi::Value SlotAttention(const Napi::CallbackInfo& info) {
  const char* fn = "slotAttention";
  View<float> q, k, v, out;
  View<int32_t> qpos, kpos;
  if (!f32_arg(info, fn, 0, q) || !f32_arg(info, fn, 1, k) || !f32_arg(info, fn, 2, v) || !i32_arg(info, fn, 3, qpos) ||
      !i32_arg(info, fn, 4, kpos) || !f32_arg(info, fn, 5, out))
    return info.Env().Undefined();
  if (info.Length() < 10 || !info[6].IsTypedArray() ||
      info[6].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[6].As<Napi::Float64Array>().ElementLength() != 10 || !info[7].IsNumber() || !info[8].IsNumber() ||
      !info[9].IsNumber()) {
    throw_arg(info, fn, 6, "a Float64Array [B, H, Hkv, T, S, cap, dk, kw, dv, vw], then scale, window, global");
    return info.Env().Undefined();
  }
  Napi::Float64Array a = info[6].As<Napi::Float64Array>();
  int64_t dims[10];
  for (int i = 0; i < 10; i++) {
    if (!(a[i] >= 0 && a[i] == std::floor(a[i]))) {
      throw_arg(info, fn, 6, "non-negative integer dims");
      return info.Env().Undefined();
    }
    dims[i] = static_cast<int64_t>(a[i]);
  }
  const auto [B, H, Hkv, T, S, cap, dk, kw, dv, vw] = dims;
  const float scale = info[7].As<Napi::Number>().FloatValue();
  const int64_t window = info[8].As<Napi::Number>().Int64Value();
  const int64_t global = info[9].As<Napi::Number>().Int64Value();
  const auto fits = [&](size_t n, int64_t want) { return static_cast<int64_t>(n) == want; };
  if (!require(info, Hkv > 0 && H % Hkv == 0 && S <= cap && dk <= kw && dv <= vw, fn,
               "dims need Hkv dividing H, S ≤ cap, dk ≤ kw, dv ≤ vw") ||
      !require(info, fits(q.size, B * H * T * dk) && fits(k.size, B * Hkv * cap * kw) &&
                         fits(v.size, B * Hkv * cap * vw) && fits(qpos.size, B * T) && fits(kpos.size, B * S) &&
                         fits(out.size, B * H * T * dv),
               fn, "an array has the wrong size for dims"))
    return info.Env().Undefined();
  const int64_t g = H / Hkv;
  const double work = 2.0 * static_cast<double>(g) * T * S * static_cast<double>(dk + dv);
  const size_t grain = work >= kTaskFlops ? 1 : static_cast<size_t>(std::ceil(kTaskFlops / std::max(work, 1.0)));
  parallel_for(static_cast<size_t>(B * Hkv), grain, [&](size_t i0, size_t i1) {
    std::vector<float> s(static_cast<size_t>(std::max<int64_t>(S, 1)));
    std::vector<int64_t> seen(static_cast<size_t>(std::max<int64_t>(S, 1)));
    for (size_t i = i0; i < i1; i++) {
      const int64_t bi = static_cast<int64_t>(i);  // b·Hkv + kv head
      const int64_t b = bi / Hkv;
      MOELAB_ISA_CALL(slot_attention_group, q.data + bi * g * T * dk, k.data + bi * cap * kw, v.data + bi * cap * vw,
                      out.data + bi * g * T * dv, qpos.data + b * T, kpos.data + b * S, g, T, S, dk, kw, dv, vw, scale,
                      window, global, s.data(), seen.data());
    }
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("slotAttention", SlotAttention);

}  // namespace
}  // namespace moelab
