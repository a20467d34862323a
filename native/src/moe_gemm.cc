// Grouped matmul for MoE experts (lib/moe/ops.ts, kernel MoelabMoeGroupedMatMul): one product per expert over its
// contiguous segment of the expert-sorted rows, all experts in one sgemm_grouped call (gemm.h), which cuts them into row
// tasks the threads take in turn: ragged experts share the cores by their work, with no barrier per expert.
// Reference: MegaBlocks grouped GEMM.
//   moeGroupedMatmul(a: F32, b: F32, offsets: I32 [E+1], mode: 0|1|2, out_dim, in_dim, out: F32) -> undefined
//     mode 0 "nt": out[seg e] = a[seg e]·b[e]ᵀ, a [M, in], b [E, out, in], out [M, out];
//     mode 1 "nn": out[seg e] = a[seg e]·b[e],  a [M, out], b [E, out, in], out [M, in];
//     mode 2 "tn": out[e] = a[seg e]ᵀ·b[seg e], a [M, out], b [M, in], out [E, out, in] (0 for an empty segment).
#include <vector>

#include "gemm.h"
#include "layout.h"
#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

Napi::Value GroupedMatmul(const Napi::CallbackInfo& info) {
  const char* fn = "moeGroupedMatmul";
  View<float> a, b, out;
  View<int32_t> offsets;
  int64_t mode, n_out, n_in;
  if (!f32_arg(info, fn, 0, a) || !f32_arg(info, fn, 1, b) || !i32_arg(info, fn, 2, offsets) ||
      !int_arg(info, fn, 3, mode) || !dim_arg(info, fn, 4, n_out) || !dim_arg(info, fn, 5, n_in) ||
      !f32_arg(info, fn, 6, out)) {
    return info.Env().Undefined();
  }
  const int64_t E = static_cast<int64_t>(offsets.size) - 1;
  bool ok = E >= 1 && offsets.data[0] == 0 && mode <= 2;
  for (int64_t e = 0; ok && e < E; e++) ok = offsets.data[e] <= offsets.data[e + 1];
  if (!require(info, ok, fn, "offsets must rise from 0 (E + 1 entries) and mode be 0, 1 or 2")) return info.Env().Undefined();
  const int64_t M = offsets.data[E];
  const int64_t a_cols = mode == 0 ? n_in : n_out;
  const int64_t b_size = mode == 2 ? M * n_in : E * n_out * n_in;
  const int64_t out_size = mode == 0 ? M * n_out : mode == 1 ? M * n_in : E * n_out * n_in;
  if (!require(info, static_cast<int64_t>(a.size) == M * a_cols, fn, "a does not have offsets[E] rows of the mode's width") ||
      !require(info, static_cast<int64_t>(b.size) == b_size, fn, "b does not have the mode's size") ||
      !require(info, static_cast<int64_t>(out.size) == out_size, fn, "out does not have the mode's size")) {
    return info.Env().Undefined();
  }
  std::vector<GemmProblem> problems(static_cast<size_t>(E));
  for (int64_t e = 0; e < E; e++) {
    const int64_t r0 = offsets.data[e], rows = offsets.data[e + 1] - r0;
    GemmProblem& p = problems[static_cast<size_t>(e)];
    if (mode == 2) {  // an empty segment has depth 0: its gradient block is 0
      p.shape.m = n_out, p.shape.n = n_in, p.shape.k = rows, p.shape.trans_a = true;
      p.a = a.data + r0 * n_out, p.b = b.data + r0 * n_in, p.c = out.data + e * n_out * n_in;
    } else {  // an empty segment has no rows
      p.shape.m = rows, p.shape.n = mode == 0 ? n_out : n_in, p.shape.k = mode == 0 ? n_in : n_out;
      p.shape.trans_b = mode == 0;
      p.a = a.data + r0 * a_cols, p.b = b.data + e * n_out * n_in, p.c = out.data + r0 * p.shape.n;
    }
  }
  const bool failed = !sgemm_grouped(problems.data(), E);
  if (failed) Napi::Error::New(info.Env(), std::string(fn) + ": out of memory for GEMM scratch").ThrowAsJavaScriptException();
  return info.Env().Undefined();
}
MOELAB_EXPORT("moeGroupedMatmul", GroupedMatmul);

}  // namespace
}  // namespace moelab
