// W8A8 matrix product with int32 accumulation: out[m,n] = Σ_k a[m,k]·b[n,k] for int8 a [M,K] (activations) and b
// [N,K] (weights, the [out, in] layout of lib/nn/linear.ts). AVX-512 VNNI (VPDPBUSD, 64 byte products per
// instruction) where present, AVX-VNNI (its 256-bit VEX form) where AVX-512 is capped or absent, else a scalar loop;
// chosen at run time. VPDPBUSD multiplies unsigned by signed bytes, so a is offset to a + 128 (a ^ 0x80) and the
// offset is taken back with 128·Σ_k b[n,k]. Each thread owns a range of output columns and walks every row, 4 rows
// × 4 (AVX-512) or 4 × 2 (AVX-VNNI) outputs at a time. Reference: Intel Intrinsics Guide, _mm512_dpbusd_epi32.
//   int8Gemm(a: Int8Array, b: Int8Array, out: Int32Array, m, n, k) -> undefined
//   int8GemmKernel() -> "avx512-vnni" | "avx-vnni" | "scalar"
// GCC 12 warns falsely inside its own _mm512_reduce_add_epi32 (an intentionally self-initialised undefined vector).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
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

#define VNNI512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define VNNI256_FN __attribute__((target("avx2,fma,avxvnni")))

enum class Int8Kernel { scalar, avx_vnni, avx512_vnni };

Int8Kernel int8_kernel() {
  static const Int8Kernel kernel = [] {
    unsigned a, b, c, d;
    const bool avx512vnni = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 11));
    const bool avxvnni = __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4));
    const Isa isa = best_isa();  // the OS-support checks and the MOELAB_ISA cap live there
    if (isa == Isa::avx512 && avx512vnni) return Int8Kernel::avx512_vnni;
    if (isa != Isa::scalar && avxvnni) return Int8Kernel::avx_vnni;
    return Int8Kernel::scalar;
  }();
  return kernel;
}

constexpr int64_t kDepth = 64;  // K is padded to a multiple of this (one zmm of bytes)

// Packed operands: a ^ 0x80 as bytes [M, kp], b [N, kp] (zero padding adds nothing: 0·b = a·0 = 0), Σ_k b per row.
struct Packed {
  const uint8_t* a;
  const int8_t* b;
  const int32_t* bsum;
  int64_t kp;
};

using TileFn = void (*)(const Packed&, int64_t row, int64_t col, int32_t* out, int64_t ldo);

template <int MR, int NR>
VNNI512_FN void tile512(const Packed& p, int64_t row, int64_t col, int32_t* out, int64_t ldo) {
  __m512i acc[MR][NR];
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) acc[i][j] = _mm512_setzero_si512();
  const uint8_t* a = p.a + row * p.kp;
  const int8_t* b = p.b + col * p.kp;
  for (int64_t k = 0; k < p.kp; k += 64) {
    __m512i bv[NR];
    for (int j = 0; j < NR; j++) bv[j] = _mm512_loadu_si512(b + j * p.kp + k);
    for (int i = 0; i < MR; i++) {
      const __m512i av = _mm512_loadu_si512(a + i * p.kp + k);
      for (int j = 0; j < NR; j++) acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, bv[j]);
    }
  }
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) out[(row + i) * ldo + col + j] = _mm512_reduce_add_epi32(acc[i][j]) - 128 * p.bsum[col + j];
}

VNNI256_FN inline int32_t hsum256(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

template <int MR, int NR>
VNNI256_FN void tile256(const Packed& p, int64_t row, int64_t col, int32_t* out, int64_t ldo) {
  __m256i acc[MR][NR];
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_si256();
  const uint8_t* a = p.a + row * p.kp;
  const int8_t* b = p.b + col * p.kp;
  for (int64_t k = 0; k < p.kp; k += 32) {
    __m256i bv[NR];
    for (int j = 0; j < NR; j++) bv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + j * p.kp + k));
    for (int i = 0; i < MR; i++) {
      const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i * p.kp + k));
      for (int j = 0; j < NR; j++) acc[i][j] = _mm256_dpbusd_avx_epi32(acc[i][j], av, bv[j]);
    }
  }
  for (int i = 0; i < MR; i++)
    for (int j = 0; j < NR; j++) out[(row + i) * ldo + col + j] = hsum256(acc[i][j]) - 128 * p.bsum[col + j];
}

// Tile functions indexed [rows − 1][cols − 1].
#define TILE_ROW(T, i) {T<i, 1>, T<i, 2>, T<i, 3>, T<i, 4>}
constexpr TileFn kTiles512[4][4] = {TILE_ROW(tile512, 1), TILE_ROW(tile512, 2), TILE_ROW(tile512, 3), TILE_ROW(tile512, 4)};
#undef TILE_ROW
constexpr TileFn kTiles256[4][2] = {{tile256<1, 1>, tile256<1, 2>}, {tile256<2, 1>, tile256<2, 2>},
                                    {tile256<3, 1>, tile256<3, 2>}, {tile256<4, 1>, tile256<4, 2>}};
constexpr int64_t kRows = 4;

void gemm_scalar(const int8_t* a, const int8_t* b, int32_t* out, int64_t m, int64_t n, int64_t k, int64_t c0, int64_t c1) {
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = c0; j < c1; j++) {
      int32_t s = 0;
      for (int64_t t = 0; t < k; t++) s += static_cast<int32_t>(a[i * k + t]) * b[j * k + t];
      out[i * n + j] = s;
    }
}

Napi::Value Int8Gemm(const Napi::CallbackInfo& info) {
  const char* fn = "int8Gemm";
  View<int8_t> a, b;
  View<int32_t> out;
  int64_t m, n, k;
  if (!quant::i8_arg(info, fn, 0, a) || !quant::i8_arg(info, fn, 1, b) || !i32_arg(info, fn, 2, out) ||
      !dim_arg(info, fn, 3, m) || !dim_arg(info, fn, 4, n) || !dim_arg(info, fn, 5, k)) {
    return info.Env().Undefined();
  }
  if (a.size != static_cast<size_t>(m * k) || b.size != static_cast<size_t>(n * k) || out.size != static_cast<size_t>(m * n)) {
    quant::range_error(info, "int8Gemm: a must hold m·k, b n·k and out m·n values");
    return info.Env().Undefined();
  }
  const Int8Kernel kernel = int8_kernel();
  const int64_t cols_per_tile = kernel == Int8Kernel::avx512_vnni ? 4 : 2;
  const int64_t col_tiles = (n + cols_per_tile - 1) / cols_per_tile;
  // Column tiles per task: at least ~2^20 multiply-adds, so small products stay on the caller.
  const size_t grain = static_cast<size_t>(std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(1, m * k * cols_per_tile)));
  if (kernel == Int8Kernel::scalar) {
    parallel_for(static_cast<size_t>(col_tiles), grain, [&](size_t t0, size_t t1) {
      gemm_scalar(a.data, b.data, out.data, m, n, k, static_cast<int64_t>(t0) * cols_per_tile,
                  std::min(n, static_cast<int64_t>(t1) * cols_per_tile));
    });
    return info.Env().Undefined();
  }
  const int64_t kp = (k + kDepth - 1) / kDepth * kDepth;
  std::vector<uint8_t> a_packed(static_cast<size_t>(m * kp), 0);
  for (int64_t i = 0; i < m; i++)
    for (int64_t t = 0; t < k; t++) a_packed[i * kp + t] = static_cast<uint8_t>(a.data[i * k + t]) ^ 0x80;
  std::vector<int8_t> b_padded;
  const int8_t* b_data = b.data;
  if (kp != k) {
    b_padded.assign(static_cast<size_t>(n * kp), 0);
    for (int64_t j = 0; j < n; j++) std::memcpy(&b_padded[j * kp], b.data + j * k, static_cast<size_t>(k));
    b_data = b_padded.data();
  }
  std::vector<int32_t> bsum(static_cast<size_t>(n), 0);
  for (int64_t j = 0; j < n; j++)
    for (int64_t t = 0; t < k; t++) bsum[j] += b.data[j * k + t];
  const Packed p{a_packed.data(), b_data, bsum.data(), kp};
  parallel_for(static_cast<size_t>(col_tiles), grain, [&](size_t t0, size_t t1) {
    for (int64_t col = static_cast<int64_t>(t0) * cols_per_tile; col < std::min(n, static_cast<int64_t>(t1) * cols_per_tile); col += cols_per_tile) {
      const int64_t nr = std::min(cols_per_tile, n - col);
      for (int64_t row = 0; row < m; row += kRows) {
        const int64_t mr = std::min(kRows, m - row);
        const TileFn tile = kernel == Int8Kernel::avx512_vnni ? kTiles512[mr - 1][nr - 1] : kTiles256[mr - 1][nr - 1];
        tile(p, row, col, out.data, n);
      }
    }
  });
  return info.Env().Undefined();
}

Napi::Value Int8GemmKernel(const Napi::CallbackInfo& info) {
  const Int8Kernel kernel = int8_kernel();
  return Napi::String::New(info.Env(), kernel == Int8Kernel::avx512_vnni ? "avx512-vnni" : kernel == Int8Kernel::avx_vnni ? "avx-vnni" : "scalar");
}

}  // namespace

MOELAB_EXPORT("int8Gemm", Int8Gemm);
MOELAB_EXPORT("int8GemmKernel", Int8GemmKernel);

}  // namespace moelab
