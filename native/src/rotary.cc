// Fused rotary position embedding (RoPE), both pair layouts, one pass over x instead of tfjs's split, four products,
// two sums and a concat: rotary(x, cos, sin, out, rows, T, half, interleaved, inverse[, tableRows]) with x and out
// [rows, T, 2·half] (rows = B·H) and cos/sin [rows / tableRows, T, half]: each run of tableRows consecutive rows shares
// one table (default rows: one table [T, half] for all; H: per-sequence tables [B, T, half], a ragged batch's
// positions); inverse rotates by −angle (the gradient of the rotation is its inverse).
// Reference: Su et al., "RoFormer" (2021); lib/model/rope.ts (layouts).
#include <algorithm>

#include "cpu.h"
#include "elementwise_simd.h"
#include "layout.h"
#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

#define MOELAB_KERNELS "rotary_kernels.h"
#include "per_isa.h"

Napi::Value Rotary(const Napi::CallbackInfo& info) {
  const char* fn = "rotary";
  View<float> x, cos, sin, out;
  int64_t rows, T, half;
  if (!f32_arg(info, fn, 0, x) || !f32_arg(info, fn, 1, cos) || !f32_arg(info, fn, 2, sin) || !f32_arg(info, fn, 3, out) ||
      !dim_arg(info, fn, 4, rows) || !dim_arg(info, fn, 5, T) || !dim_arg(info, fn, 6, half))
    return info.Env().Undefined();
  if (info.Length() < 9 || !info[7].IsBoolean() || !info[8].IsBoolean()) {
    throw_arg(info, fn, 7, "two booleans (interleaved, inverse)");
    return info.Env().Undefined();
  }
  const bool interleaved = info[7].As<Napi::Boolean>().Value();
  const float sign = info[8].As<Napi::Boolean>().Value() ? -1.0f : 1.0f;
  int64_t tableRows = rows;
  if (info.Length() > 9 && !dim_arg(info, fn, 9, tableRows)) return info.Env().Undefined();
  const int64_t n = rows * T * 2 * half;
  const int64_t tables = tableRows > 0 && rows % tableRows == 0 ? rows / tableRows : 0;
  if (!require(info, static_cast<int64_t>(x.size) == n && static_cast<int64_t>(out.size) == n, fn, "x and out must hold rows·T·2·half values") ||
      !require(info, rows == 0 || tables > 0, fn, "tableRows must divide rows") ||
      !require(info, static_cast<int64_t>(cos.size) == tables * T * half && static_cast<int64_t>(sin.size) == tables * T * half, fn, "cos and sin must hold (rows / tableRows)·T·half values"))
    return info.Env().Undefined();
  const size_t grain = std::max<size_t>(1, (size_t(1) << 15) / static_cast<size_t>(std::max<int64_t>(T * 2 * half, 1)));
  const Isa isa = best_isa();
  parallel_for(static_cast<size_t>(rows), grain, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) {
      const int64_t off = static_cast<int64_t>(r) * T * 2 * half;
      const int64_t tab = static_cast<int64_t>(r) / tableRows * T * half;
      const float* c = cos.data + tab;
      const float* s = sin.data + tab;
      if (isa == Isa::avx512) isa_avx512::rotate_rows(x.data + off, c, s, out.data + off, T, half, interleaved, sign);
      else if (isa == Isa::avx2) isa_avx2::rotate_rows(x.data + off, c, s, out.data + off, T, half, interleaved, sign);
      else isa_scalar::rotate_rows(x.data + off, c, s, out.data + off, T, half, interleaved, sign);
    }
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("rotary", Rotary);

}  // namespace
}  // namespace moelab
