// Quantize / dequantize kernels for the lab's quantizers (lib/quant): FP8 E4M3/E5M2 encode of x/scale, bit-exact to
// the OCP OFP8 specification (round to nearest even, subnormals, ±0, NaN → NaN; saturating: ±max, else E4M3 NaN /
// E5M2 ±Inf), FP8 decode times scale, block amax, and INT8 symmetric quantize (round half to even, clamp ±127).
// Scales follow the block layout of quant_args.h. Encode works on the float32 bits (the technique of PyTorch's
// c10/util/Float8_e4m3fn.h): normal results round by adding half an ulp (ties to even) and shifting; results below
// the smallest normal add a "magic" float whose ulp is the FP8 subnormal spacing, so the FPU rounds to nearest even.
// Reference: OCP 8-bit Floating Point Specification (OFP8) rev. 1.0; DESIGN.md §3 "FP8", "INT8/INT4".
//   fp8Quantize(x: Float32Array, codes: Uint8Array, scales: Float32Array, rows, cols, groupRows, groupCols, format, saturate)
//   fp8Dequantize(codes: Uint8Array, scales: Float32Array, out: Float32Array, rows, cols, groupRows, groupCols, format)
//   blockAmax(x: Float32Array, amax: Float32Array, rows, cols, groupRows, groupCols)
//   int8Quantize(x: Float32Array, codes: Int8Array, scales: Float32Array, rows, cols, groupRows, groupCols)
#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu.h"
#include "pool.h"
#include "quant_args.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

using quant::BlockLayout;

constexpr size_t kGrain = 1 << 15;  // elements per task: smaller arrays run on the caller

#define QUANT_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#define QUANT_AVX2 __attribute__((target("avx2,fma")))

// The constants of one FP8 format's encoder.
struct Fp8Params {
  uint32_t shift;          // 23 − mantissa bits
  uint32_t rebias;         // (127 − bias) << mantissa bits
  uint32_t min_normal;     // float32 bits of the smallest normal FP8 magnitude
  float magic;             // 2^(23 + smallest subnormal exponent): its ulp is the FP8 subnormal spacing
  uint32_t max_code;       // code of +max
  uint32_t overflow;       // code written for |x| beyond max (saturating or not)
  uint32_t nan;            // canonical NaN code
};

Fp8Params fp8_params(int format, bool saturate) {
  const bool e4m3 = format == 0;
  const int mant = e4m3 ? 3 : 2, bias = e4m3 ? 7 : 15;
  Fp8Params p{};
  p.shift = 23 - mant;
  p.rebias = static_cast<uint32_t>(127 - bias) << mant;
  p.min_normal = static_cast<uint32_t>(127 + 1 - bias) << 23;
  p.magic = std::ldexp(1.0f, 23 + 1 - bias - mant);
  p.max_code = e4m3 ? 0x7e : 0x7b;
  p.overflow = saturate ? p.max_code : e4m3 ? 0x7f : 0x7c;
  p.nan = 0x7f;
  return p;
}

// One float's FP8 code; branch-free, so the loops below vectorize.
inline uint8_t encode(float x, const Fp8Params& p) {
  const uint32_t u = std::bit_cast<uint32_t>(x);
  const uint32_t sign = (u >> 24) & 0x80;
  const uint32_t a = u & 0x7fffffffu;
  const uint32_t normal = ((a + ((1u << (p.shift - 1)) - 1) + ((a >> p.shift) & 1)) >> p.shift) - p.rebias;
  const uint32_t subnormal = std::bit_cast<uint32_t>(std::bit_cast<float>(a) + p.magic) - std::bit_cast<uint32_t>(p.magic);
  uint32_t code = a < p.min_normal ? subnormal : normal;
  code = code > p.max_code ? p.overflow : code;
  return static_cast<uint8_t>(a > 0x7f800000u ? p.nan : code | sign);
}

// Calls run(block, begin, end) for each maximal run of flat indices in [begin, end) that lies in one row and one block.
template <typename F>
inline void for_each_run(const BlockLayout& l, size_t begin, size_t end, F&& run) {
  size_t i = begin;
  while (i < end) {
    const int64_t r = static_cast<int64_t>(i) / l.cols, c = static_cast<int64_t>(i) % l.cols;
    const size_t stop = std::min(end, i + static_cast<size_t>(l.group_cols - c % l.group_cols));
    run(l.block(r, c), i, stop);
    i = stop;
  }
}

#define FP8_ENCODE_LOOP                                                                \
  (const float* x, uint8_t* codes, float scale, const Fp8Params& p, size_t n) {       \
    for (size_t i = 0; i < n; i++) codes[i] = encode(x[i] / scale, p);                 \
  }
QUANT_AVX512 void encode_avx512 FP8_ENCODE_LOOP
QUANT_AVX2 void encode_avx2 FP8_ENCODE_LOOP
void encode_scalar FP8_ENCODE_LOOP
#undef FP8_ENCODE_LOOP

Napi::Value Fp8Quantize(const Napi::CallbackInfo& info) {
  const char* fn = "fp8Quantize";
  View<float> x, scales;
  View<uint8_t> codes;
  BlockLayout l;
  int64_t format;
  bool saturate;
  if (!f32_arg(info, fn, 0, x) || !quant::u8_arg(info, fn, 1, codes) || !f32_arg(info, fn, 2, scales) ||
      !quant::layout_args(info, fn, 3, x.size, scales.size, l) || !int_arg(info, fn, 7, format) ||
      !quant::bool_arg(info, fn, 8, saturate)) {
    return info.Env().Undefined();
  }
  if (codes.size != x.size || format > 1) {
    quant::range_error(info, "fp8Quantize: codes must be as long as x and format 0 (E4M3) or 1 (E5M2)");
    return info.Env().Undefined();
  }
  const Fp8Params p = fp8_params(static_cast<int>(format), saturate);
  const Isa isa = best_isa();
  const auto body = isa == Isa::avx512 ? encode_avx512 : isa == Isa::avx2 ? encode_avx2 : encode_scalar;
  parallel_for(x.size, kGrain, [&](size_t begin, size_t end) {
    for_each_run(l, begin, end, [&](int64_t b, size_t s, size_t e) { body(x.data + s, codes.data + s, scales.data[b], p, e - s); });
  });
  return info.Env().Undefined();
}

// The 256 values of a format's codes (OCP OFP8 §5.2), built once.
struct DecodeTable {
  float v[256];
  explicit DecodeTable(int format) {
    const bool e4m3 = format == 0;
    const int mant = e4m3 ? 3 : 2, bias = e4m3 ? 7 : 15, exp_max = e4m3 ? 15 : 31;
    for (int c = 0; c < 256; c++) {
      const int e = (c & 0x7f) >> mant, f = c & ((1 << mant) - 1);
      const float sign = c & 0x80 ? -1.0f : 1.0f;
      if (e4m3 ? (c & 0x7f) == 0x7f : e == exp_max) {
        v[c] = !e4m3 && f == 0 ? sign * INFINITY : NAN;
      } else {
        v[c] = sign * std::ldexp(static_cast<float>(e == 0 ? f : (1 << mant) + f), std::max(e - bias, 1 - bias) - mant);
      }
    }
  }
};

Napi::Value Fp8Dequantize(const Napi::CallbackInfo& info) {
  const char* fn = "fp8Dequantize";
  View<uint8_t> codes;
  View<float> scales, out;
  BlockLayout l;
  int64_t format;
  if (!quant::u8_arg(info, fn, 0, codes) || !f32_arg(info, fn, 1, scales) || !f32_arg(info, fn, 2, out) ||
      !quant::layout_args(info, fn, 3, codes.size, scales.size, l) || !int_arg(info, fn, 7, format)) {
    return info.Env().Undefined();
  }
  if (out.size != codes.size || format > 1) {
    quant::range_error(info, "fp8Dequantize: out must be as long as codes and format 0 (E4M3) or 1 (E5M2)");
    return info.Env().Undefined();
  }
  static const DecodeTable e4m3(0), e5m2(1);
  const float* table = format == 0 ? e4m3.v : e5m2.v;
  parallel_for(codes.size, kGrain, [&](size_t begin, size_t end) {
    for_each_run(l, begin, end, [&](int64_t b, size_t s, size_t e) {
      const float scale = scales.data[b];
      for (size_t i = s; i < e; i++) out.data[i] = table[codes.data[i]] * scale;
    });
  });
  return info.Env().Undefined();
}

// max |x| as the largest float32 magnitude bit pattern (monotonic for non-negative floats); NaN patterns count as 0.
// Integer maxima vectorize (a float max with NaN semantics does not without -ffast-math).
#define AMAX_LOOP                                                     \
  (const float* x, size_t n, uint32_t m) {                            \
    for (size_t i = 0; i < n; i++) {                                  \
      const uint32_t a = std::bit_cast<uint32_t>(x[i]) & 0x7fffffffu; \
      const uint32_t v = a > 0x7f800000u ? 0u : a;                    \
      m = v > m ? v : m;                                              \
    }                                                                 \
    return m;                                                         \
  }
QUANT_AVX512 uint32_t amax_avx512 AMAX_LOOP
QUANT_AVX2 uint32_t amax_avx2 AMAX_LOOP
uint32_t amax_scalar AMAX_LOOP
#undef AMAX_LOOP

Napi::Value BlockAmax(const Napi::CallbackInfo& info) {
  const char* fn = "blockAmax";
  View<float> x, amax;
  BlockLayout l;
  if (!f32_arg(info, fn, 0, x) || !f32_arg(info, fn, 1, amax) || !quant::layout_args(info, fn, 2, x.size, amax.size, l)) {
    return info.Env().Undefined();
  }
  const Isa isa = best_isa();
  const auto amax_fn = isa == Isa::avx512 ? amax_avx512 : isa == Isa::avx2 ? amax_avx2 : amax_scalar;
  // Work items are (block, row) pairs, so a single block (per tensor) splits across threads as well as many blocks do;
  // each item folds its row segment into the block's maximum with an atomic max.
  std::vector<std::atomic<uint32_t>> best(amax.size);
  for (auto& b : best) b.store(0, std::memory_order_relaxed);
  const size_t items = static_cast<size_t>(l.rows) * static_cast<size_t>(l.block_cols());
  parallel_for(items, std::max<size_t>(1, kGrain / static_cast<size_t>(std::max<int64_t>(1, l.group_cols))), [&](size_t begin, size_t end) {
    for (size_t it = begin; it < end; it++) {
      const int64_t r = static_cast<int64_t>(it) / l.block_cols(), bc = static_cast<int64_t>(it) % l.block_cols();
      const uint32_t m = amax_fn(x.data + r * l.cols + bc * l.group_cols, static_cast<size_t>(l.group_cols), 0u);
      std::atomic<uint32_t>& slot = best[static_cast<size_t>(l.block(r, bc * l.group_cols))];
      uint32_t cur = slot.load(std::memory_order_relaxed);
      while (m > cur && !slot.compare_exchange_weak(cur, m, std::memory_order_relaxed)) {
      }
    }
  });
  for (size_t b = 0; b < amax.size; b++) amax.data[b] = std::bit_cast<float>(best[b].load(std::memory_order_relaxed));
  return info.Env().Undefined();
}

#define INT8_LOOP                                                                               \
  (const float* x, int8_t* codes, float scale, size_t n) {                                      \
    for (size_t i = 0; i < n; i++) {                                                            \
      codes[i] = static_cast<int8_t>(std::clamp(std::nearbyint(x[i] / scale), -127.0f, 127.0f)); \
    }                                                                                           \
  }
QUANT_AVX512 void int8_avx512 INT8_LOOP
QUANT_AVX2 void int8_avx2 INT8_LOOP
void int8_scalar INT8_LOOP
#undef INT8_LOOP

Napi::Value Int8Quantize(const Napi::CallbackInfo& info) {
  const char* fn = "int8Quantize";
  View<float> x, scales;
  View<int8_t> codes;
  BlockLayout l;
  if (!f32_arg(info, fn, 0, x) || !quant::i8_arg(info, fn, 1, codes) || !f32_arg(info, fn, 2, scales) ||
      !quant::layout_args(info, fn, 3, x.size, scales.size, l)) {
    return info.Env().Undefined();
  }
  if (codes.size != x.size) {
    quant::range_error(info, "int8Quantize: codes must be as long as x");
    return info.Env().Undefined();
  }
  const Isa isa = best_isa();
  const auto body = isa == Isa::avx512 ? int8_avx512 : isa == Isa::avx2 ? int8_avx2 : int8_scalar;
  parallel_for(x.size, kGrain, [&](size_t begin, size_t end) {
    for_each_run(l, begin, end, [&](int64_t b, size_t s, size_t e) { body(x.data + s, codes.data + s, scales.data[b], e - s); });
  });
  return info.Env().Undefined();
}

}  // namespace

MOELAB_EXPORT("fp8Quantize", Fp8Quantize);
MOELAB_EXPORT("fp8Dequantize", Fp8Dequantize);
MOELAB_EXPORT("blockAmax", BlockAmax);
MOELAB_EXPORT("int8Quantize", Int8Quantize);

}  // namespace moelab
