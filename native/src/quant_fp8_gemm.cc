// FP8 GEMM accumulation emulation: out[m,n] = Σ_k a[m,k]·b[n,k] where each fp32 product goes into a limited-precision
// accumulator (the fp32 sum cut to `accMantBits` fraction bits, by truncation or round to nearest even) and that
// partial sum is promoted (added into an fp32 total) every `interval` products. interval ≥ k never promotes before
// the end; accMantBits 23 is plain fp32. DeepSeek-V3 (arXiv 2412.19437, §3.3.2) reports ~14 retained bits on H800
// tensor cores and promotes every 128 of K (N_C = 128). Inputs are the dequantized FP8 values (lib/quant/fp8-gemm.ts).
//   fp8GemmEmulated(a: Float32Array, b: Float32Array, out: Float32Array, m, n, k, interval, accMantBits, truncate)
#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

#include "cpu.h"
#include "pool.h"
#include "quant_args.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

struct Accumulator {
  uint32_t keep;  // mask of the kept bits
  uint32_t half;  // half an ulp of the kept precision minus one (0 when truncating)
  uint32_t shift; // dropped bits
};

inline float cut(float x, const Accumulator& acc) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  const uint32_t odd = acc.half ? (u >> acc.shift) & 1 : 0;
  return std::bit_cast<float>((u + acc.half + odd) & acc.keep);
}

// Rows [r0, r1) of the product; bt is b transposed [k, n] so the inner loop runs over n (and vectorizes).
#define FP8_GEMM_ROWS                                                                                          \
  (const float* a, const float* bt, float* out, int64_t n, int64_t k, int64_t interval, const Accumulator& acc, \
   int64_t r0, int64_t r1, float* partial) {                                                                  \
    for (int64_t i = r0; i < r1; i++) {                                                                        \
      float* total = out + i * n;                                                                              \
      std::fill(total, total + n, 0.0f);                                                                       \
      std::fill(partial, partial + n, 0.0f);                                                                   \
      for (int64_t t = 0; t < k; t++) {                                                                        \
        const float av = a[i * k + t];                                                                         \
        const float* brow = bt + t * n;                                                                        \
        for (int64_t j = 0; j < n; j++) partial[j] = cut(partial[j] + av * brow[j], acc);                      \
        if ((t + 1) % interval == 0 || t + 1 == k) {                                                           \
          for (int64_t j = 0; j < n; j++) total[j] += partial[j];                                              \
          std::fill(partial, partial + n, 0.0f);                                                               \
        }                                                                                                      \
      }                                                                                                        \
    }                                                                                                          \
  }
// No fused multiply-add contraction (GCC contracts by default in C++): every product and sum rounds to fp32, as in the
// JavaScript reference.
#define NO_FMA optimize("fp-contract=off")
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"), NO_FMA)) void rows_avx512 FP8_GEMM_ROWS
__attribute__((target("avx2"), NO_FMA)) void rows_avx2 FP8_GEMM_ROWS
__attribute__((NO_FMA)) void rows_scalar FP8_GEMM_ROWS
#undef NO_FMA
#undef FP8_GEMM_ROWS

Napi::Value Fp8GemmEmulated(const Napi::CallbackInfo& info) {
  const char* fn = "fp8GemmEmulated";
  View<float> a, b, out;
  int64_t m, n, k, interval, bits;
  bool truncate;
  if (!f32_arg(info, fn, 0, a) || !f32_arg(info, fn, 1, b) || !f32_arg(info, fn, 2, out) || !dim_arg(info, fn, 3, m) ||
      !dim_arg(info, fn, 4, n) || !dim_arg(info, fn, 5, k) || !dim_arg(info, fn, 6, interval) ||
      !dim_arg(info, fn, 7, bits) || !quant::bool_arg(info, fn, 8, truncate)) {
    return info.Env().Undefined();
  }
  if (a.size != static_cast<size_t>(m * k) || b.size != static_cast<size_t>(n * k) || out.size != static_cast<size_t>(m * n)) {
    quant::range_error(info, "fp8GemmEmulated: a must hold m·k, b n·k and out m·n values");
    return info.Env().Undefined();
  }
  if (interval < 1 || bits < 1 || bits > 23) {
    quant::range_error(info, "fp8GemmEmulated: interval must be ≥ 1 and accMantBits in [1, 23]");
    return info.Env().Undefined();
  }
  const uint32_t shift = static_cast<uint32_t>(23 - bits);
  const Accumulator acc{~((uint32_t{1} << shift) - 1), truncate || shift == 0 ? 0u : (uint32_t{1} << (shift - 1)) - 1, shift};
  std::vector<float> bt(static_cast<size_t>(k * n));
  for (int64_t j = 0; j < n; j++)
    for (int64_t t = 0; t < k; t++) bt[t * n + j] = b.data[j * k + t];
  const Isa isa = best_isa();
  const auto rows = isa == Isa::avx512 ? rows_avx512 : isa == Isa::avx2 ? rows_avx2 : rows_scalar;
  const size_t grain = static_cast<size_t>(std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(1, n * k)));
  parallel_for(static_cast<size_t>(m), grain, [&](size_t r0, size_t r1) {
    std::vector<float> partial(static_cast<size_t>(n));
    rows(a.data, bt.data(), out.data, n, k, interval, acc, static_cast<int64_t>(r0), static_cast<int64_t>(r1), partial.data());
  });
  return info.Env().Undefined();
}

}  // namespace

MOELAB_EXPORT("fp8GemmEmulated", Fp8GemmEmulated);

}  // namespace moelab
