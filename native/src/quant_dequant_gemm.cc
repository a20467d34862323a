// Weight-only quantized matmul with on-the-fly dequantisation (the decode-path GEMV/GEMM): out[m,n] = Σ_k x[m,k]·w[n,k]
// where w[n,k] = value(code[n,k]) · scale(block(n,k)) is never stored in float32. Each thread owns a range of output
// columns n; for each it decodes the weight row once into an L1-resident buffer (value·scale, one fp32 multiply, so
// every dequantised weight is bit-identical to lab.quant's QuantizedTensor.dequantize()) and dots it with the M rows
// of x. Formats: 0 = INT8 symmetric (Int8Array codes), 1 = INT4 symmetric (two codes per byte, low nibble first,
// sign-extended), 2 = FP8 E4M3 and 3 = FP8 E5M2 (Uint8Array codes; bit arithmetic, with the 256-entry value table
// lab.quant decodes with for the NaN/Inf codes; the scalar path reads the table). The block
// layout is quant_args.h's (per channel, 1×g groups, g×g blocks). AVX-512 / AVX2 / scalar, chosen at run time (cpu.h).
// Reference: DeepSeek-V3 inference/kernel.py (fp8_gemm with 128×128 weight scales); GPTQ/AWQ weight-only GEMV kernels.
//   dequantGemm(x: Float32Array, codes: Int8Array | Uint8Array, scales: Float32Array, lut: Float32Array | null (FP8: 256 values),
//               out: Float32Array, m, n, k, groupRows, groupCols, format) -> undefined
//   dequantGemmKernel() -> "avx512" | "avx2" | "scalar"
// GCC 12 warns falsely inside its own AVX-512 intrinsics (intentionally self-initialised undefined vectors).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "cpu.h"
#include "pool.h"
#include "quant_args.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

#define DQ512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define DQ256_FN __attribute__((target("avx2,fma")))

enum Format : int64_t { kInt8 = 0, kInt4 = 1, kE4m3 = 2, kE5m2 = 3 };

// FP8 without the table: the 7 magnitude bits shifted into a float32's exponent and mantissa fields, times
// 2^(127 − bias), give the code's value exactly (normals and subnormals alike); the sign bit is copied. Codes the
// shift does not cover (E4M3 NaN S.1111.111; E5M2 Inf/NaN S.11111.xx) are read from the table.
constexpr int kE4m3Shift = 20, kE5m2Shift = 21;
constexpr float kE4m3Pow = 0x1p120f, kE5m2Pow = 0x1p112f;

// One weight row's codes, its per-group scales along k, and the value table (FP8 only).
struct Row {
  const uint8_t* codes;  // row start (INT4: byte of element 0; k is even so rows start on a byte)
  const float* scales;   // scale of k-group g is scales[g]
  const float* lut;      // FP8 value of each code
  int64_t k, group;      // row length, k-group width
  Format format;
};

// ---- scalar ----
inline float code_value(const Row& r, int64_t i) {
  if (r.format == kInt8) return static_cast<float>(reinterpret_cast<const int8_t*>(r.codes)[i]);
  if (r.format >= kE4m3) return r.lut[r.codes[i]];
  const int nibble = (r.codes[i >> 1] >> ((i & 1) * 4)) & 0xf;
  return static_cast<float>(nibble < 8 ? nibble : nibble - 16);
}

void decode_scalar(const Row& r, float* w) {
  for (int64_t i = 0; i < r.k; i++) w[i] = code_value(r, i) * r.scales[i / r.group];
}

float dot_scalar(const float* a, const float* b, int64_t k) {
  float s = 0.f;
  for (int64_t i = 0; i < k; i++) s += a[i] * b[i];
  return s;
}

// ---- AVX2: 8 codes at a time (groups are multiples of 8 when this path runs; the rest falls back per element) ----
DQ256_FN void decode_avx2(const Row& r, float* w) {
  for (int64_t g0 = 0; g0 < r.k; g0 += r.group) {
    const float s = r.scales[g0 / r.group];
    const __m256 sv = _mm256_set1_ps(s);
    int64_t i = g0;
    const int64_t end = g0 + r.group;
    const bool simd = r.format != kInt4 || g0 % 2 == 0;  // INT4 vectors start on a byte
    for (; simd && i + 8 <= end; i += 8) {
      __m256i iv;
      if (r.format == kInt8) {
        iv = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r.codes + i)));
      } else if (r.format >= kE4m3) {
        const bool e4 = r.format == kE4m3;
        const __m256i c = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(r.codes + i)));
        const __m256i mag = _mm256_and_si256(c, _mm256_set1_epi32(0x7f));
        const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(c, _mm256_set1_epi32(0x80)), 24);
        const __m256 m = _mm256_castsi256_ps(_mm256_sllv_epi32(mag, _mm256_set1_epi32(e4 ? kE4m3Shift : kE5m2Shift)));
        __m256 v = _mm256_or_ps(_mm256_mul_ps(m, _mm256_set1_ps(e4 ? kE4m3Pow : kE5m2Pow)), _mm256_castsi256_ps(sign));
        const __m256i special = e4 ? _mm256_cmpeq_epi32(mag, _mm256_set1_epi32(0x7f)) : _mm256_cmpgt_epi32(mag, _mm256_set1_epi32(0x7b));
        if (_mm256_movemask_ps(_mm256_castsi256_ps(special))) v = _mm256_mask_i32gather_ps(v, r.lut, c, _mm256_castsi256_ps(special), 4);
        _mm256_storeu_ps(w + i, _mm256_mul_ps(v, sv));
        continue;
      } else {
        // 4 bytes = 8 nibbles, element 2j = low nibble of byte j: spread bytes to 32-bit lanes twice, shift by 0 / 4.
        const __m256i bytes = _mm256_cvtepu8_epi32(_mm_cvtsi32_si128(*reinterpret_cast<const int32_t*>(r.codes + i / 2)));
        const __m256i dup = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
        const __m256i nib = _mm256_and_si256(_mm256_srlv_epi32(dup, _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4)), _mm256_set1_epi32(0xf));
        iv = _mm256_sub_epi32(_mm256_xor_si256(nib, _mm256_set1_epi32(8)), _mm256_set1_epi32(8));  // sign-extend 4 bits
      }
      _mm256_storeu_ps(w + i, _mm256_mul_ps(_mm256_cvtepi32_ps(iv), sv));
    }
    for (; i < end; i++) w[i] = code_value(r, i) * s;
  }
}

DQ256_FN float dot_avx2(const float* a, const float* b, int64_t k) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= k; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  const __m256 acc = _mm256_add_ps(acc0, acc1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  float total = _mm_cvtss_f32(s);
  for (; i < k; i++) total += a[i] * b[i];
  return total;
}

// ---- AVX-512: 16 codes at a time ----
DQ512_FN void decode_avx512(const Row& r, float* w) {
  for (int64_t g0 = 0; g0 < r.k; g0 += r.group) {
    const float s = r.scales[g0 / r.group];
    const __m512 sv = _mm512_set1_ps(s);
    int64_t i = g0;
    const int64_t end = g0 + r.group;
    const bool simd = r.format != kInt4 || g0 % 2 == 0;  // INT4 vectors start on a byte
    for (; simd && i + 16 <= end; i += 16) {
      __m512 v;
      if (r.format == kInt8) {
        v = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r.codes + i))));
      } else if (r.format >= kE4m3) {
        const bool e4 = r.format == kE4m3;
        const __m512i c = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(r.codes + i)));
        const __m512i mag = _mm512_and_si512(c, _mm512_set1_epi32(0x7f));
        const __m512i sign = _mm512_slli_epi32(_mm512_and_si512(c, _mm512_set1_epi32(0x80)), 24);
        const __m512 m = _mm512_castsi512_ps(_mm512_sllv_epi32(mag, _mm512_set1_epi32(e4 ? kE4m3Shift : kE5m2Shift)));
        v = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(_mm512_mul_ps(m, _mm512_set1_ps(e4 ? kE4m3Pow : kE5m2Pow))), sign));
        const __mmask16 special = e4 ? _mm512_cmpeq_epi32_mask(mag, _mm512_set1_epi32(0x7f)) : _mm512_cmpgt_epi32_mask(mag, _mm512_set1_epi32(0x7b));
        if (special) v = _mm512_mask_i32gather_ps(v, special, c, r.lut, 4);
      } else {
        // 8 bytes = 16 nibbles: low nibbles to even lanes, high nibbles to odd lanes, sign-extend 4 bits.
        const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(r.codes + i / 2));
        const __m128i lo = _mm_and_si128(bytes, _mm_set1_epi8(0x0f));
        const __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), _mm_set1_epi8(0x0f));
        const __m128i nib = _mm_sub_epi8(_mm_xor_si128(_mm_unpacklo_epi8(lo, hi), _mm_set1_epi8(8)), _mm_set1_epi8(8));
        v = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(nib));
      }
      _mm512_storeu_ps(w + i, _mm512_mul_ps(v, sv));
    }
    for (; i < end; i++) w[i] = code_value(r, i) * s;
  }
}

DQ512_FN float dot_avx512(const float* a, const float* b, int64_t k) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i + 16 <= k; i += 16) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
  float total = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  for (; i < k; i++) total += a[i] * b[i];
  return total;
}

struct Path {
  void (*decode)(const Row&, float*);
  float (*dot)(const float*, const float*, int64_t);
  const char* name;
};

const Path& path() {
  static const Path p = [] {
    switch (best_isa()) {  // MOELAB_ISA caps it (cpu.cc)
      case Isa::avx512: return Path{decode_avx512, dot_avx512, "avx512"};
      case Isa::avx2: return Path{decode_avx2, dot_avx2, "avx2"};
      default: return Path{decode_scalar, dot_scalar, "scalar"};
    }
  }();
  return p;
}

Napi::Value DequantGemm(const Napi::CallbackInfo& info) {
  const char* fn = "dequantGemm";
  View<float> x, scales, lut, out;
  int64_t m, n, k, group_rows, group_cols, format;
  if (!f32_arg(info, fn, 0, x) || !f32_arg(info, fn, 2, scales) || !f32_arg(info, fn, 4, out) || !dim_arg(info, fn, 5, m) ||
      !dim_arg(info, fn, 6, n) || !dim_arg(info, fn, 7, k) || !dim_arg(info, fn, 8, group_rows) ||
      !dim_arg(info, fn, 9, group_cols) || !int_arg(info, fn, 10, format)) {
    return info.Env().Undefined();
  }
  if (format < kInt8 || format > kE5m2) {
    quant::range_error(info, "dequantGemm: format must be 0 (int8), 1 (int4), 2 (e4m3) or 3 (e5m2)");
    return info.Env().Undefined();
  }
  View<uint8_t> codes;
  View<int8_t> icodes;
  if (format == kInt8) {
    if (!quant::i8_arg(info, fn, 1, icodes)) return info.Env().Undefined();
    codes.data = reinterpret_cast<uint8_t*>(icodes.data);
    codes.size = icodes.size;
  } else if (!quant::u8_arg(info, fn, 1, codes)) {
    return info.Env().Undefined();
  }
  if (format >= kE4m3) {
    if (!f32_arg(info, fn, 3, lut)) return info.Env().Undefined();
    if (lut.size != 256) {
      quant::range_error(info, "dequantGemm: lut must hold the 256 FP8 code values");
      return info.Env().Undefined();
    }
  }
  quant::BlockLayout layout{n, k, std::max<int64_t>(group_rows, 1), std::max<int64_t>(group_cols, 1)};
  const size_t want_codes = static_cast<size_t>(format == kInt4 ? n * k / 2 : n * k);
  if (group_rows < 1 || group_cols < 1 || k % group_cols != 0 || (format == kInt4 && k % 2 != 0)) {
    quant::range_error(info, "dequantGemm: groupRows, groupCols must be ≥ 1, groupCols must divide k (and k be even for int4)");
    return info.Env().Undefined();
  }
  if (x.size != static_cast<size_t>(m * k) || out.size != static_cast<size_t>(m * n) || codes.size != want_codes ||
      scales.size != static_cast<size_t>(layout.blocks())) {
    quant::range_error(info, "dequantGemm: x must hold m·k, out m·n, codes n·k (int4: n·k/2) values and scales one per block");
    return info.Env().Undefined();
  }
  const Path& p = path();
  const int64_t row_bytes = format == kInt4 ? k / 2 : k;
  // Output columns per task: at least ~2^16 decoded weights, so small products stay on the caller.
  const size_t grain = static_cast<size_t>(std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, k)));
  parallel_for(static_cast<size_t>(n), grain, [&](size_t j0, size_t j1) {
    std::vector<float> w(static_cast<size_t>(k));
    for (int64_t j = static_cast<int64_t>(j0); j < static_cast<int64_t>(j1); j++) {
      const Row row{codes.data + j * row_bytes, scales.data + layout.block(j, 0), lut.data, k, group_cols, static_cast<Format>(format)};
      p.decode(row, w.data());
      for (int64_t i = 0; i < m; i++) out.data[i * n + j] = p.dot(x.data + i * k, w.data(), k);
    }
  });
  return info.Env().Undefined();
}

Napi::Value DequantGemmKernel(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), path().name); }

}  // namespace

MOELAB_EXPORT("dequantGemm", DequantGemm);
MOELAB_EXPORT("dequantGemmKernel", DequantGemmKernel);

}  // namespace moelab
