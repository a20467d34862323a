// Opt-in bf16 matrix multiplication: C[m,n] (fp32) = bf16(A)[m,k] · bf16(B)[k,n] with fp32 accumulation; inputs are
// rounded to bf16 to nearest even. Two engines over one packing (Intel SDM vol. 2; Intel AMX programming reference):
// - Intel AMX (TDPBF16PS) where present: each thread computes 32×32 blocks of C in four tile accumulators. Linux needs
//   the process to ask for the tile data state first (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)).
// - AVX512-BF16 (VDPBF16PS; AMD Zen 4/5, Intel Cooper Lake and later) otherwise: 8×32 register blocks of C, each
//   step broadcasting one bf16 pair of an A row against 32 columns' pairs of B.
// A is packed into 32-row blocks of 32-wide depth steps, B into 32-column panels in the VNNI pair layout both read;
// the packing reads either operand stored transposed (so a backward pass's dYᵀ or a [out, in] weight is never copied).
//   matmulBf16(a: Float32Array, b: Float32Array, out: Float32Array, m, n, k, transA, transB) -> undefined
//     a is [m, k] ([k, m] when transA), b [k, n] ([n, k] when transB), out [m, n]
//   matmulBf16Support() -> null when usable, else a string saying why not
//   matmulBf16Engine() -> "amx" | "avx512bf16" | null
#include <immintrin.h>
#include <napi.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bf16_engine.h"
#include "cpu.h"
#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

#define AMX_FN __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))
#define BF16_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma")))

constexpr int kArchReqXcompPerm = 0x1023;  // arch_prctl code (asm/prctl.h)
constexpr int kXfeatureXtiledata = 18;     // XSAVE feature number of the AMX tile data
constexpr int64_t kBlock = 32;             // C block: 2×2 tiles of 16×16 fp32
constexpr int64_t kDepth = 32;             // bf16 values per tile row (64 bytes)
constexpr int64_t kSliceBytes = 768 << 10;  // B bytes per pass over C (every panel's slice stays in L2)
constexpr int64_t kGroupBytes = 512 << 10;  // C bytes of the row blocks that share the passes (they stay in L2)
constexpr int64_t kColumns = 1024;          // columns of C per chunk (so the slices stay deep for wide products)

enum class Engine { none, amx, dot };

// The engine this process uses, and why none when none: AMX when the CPU has it and the OS grants the tile state
// (asked once per process), else AVX512-BF16 dot products. Both need the AVX-512 path (MOELAB_ISA caps it).
struct Choice {
  Engine engine;
  const char* reason;
};
const Choice& choice() {
  static const Choice c = []() -> Choice {
    const CpuFeatures& f = cpu_features();
    if (!f.avx512bf16) return {Engine::none, "this CPU has neither AMX-BF16 nor AVX512-BF16"};
    if (best_isa() != Isa::avx512) return {Engine::none, "bf16 products need the AVX-512 path (MOELAB_ISA caps it)"};
    if (amx_bf16_usable()) return {Engine::amx, nullptr};
    return {Engine::dot, nullptr};
  }();
  return c;
}
const char* unsupported_reason() { return choice().reason; }

// 64-byte tile configuration (palette 1): tiles 0-3 accumulate C, 4-5 hold A, 6-7 hold B; all 16 rows × 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Grow-only 64-byte-aligned scratch.
class Buffer {
 public:
  ~Buffer() { std::free(data_); }
  uint16_t* get(int64_t n) {
    if (n > capacity_) {
      std::free(data_);
      data_ = static_cast<uint16_t*>(std::aligned_alloc(64, (static_cast<size_t>(n) * 2 + 63) / 64 * 64));
      capacity_ = data_ ? n : 0;
    }
    return data_;
  }

 private:
  uint16_t* data_ = nullptr;
  int64_t capacity_ = 0;
};

// The first `count` of 16 lanes (count ≤ 0: none).
inline __mmask16 lanes(int count) {
  return count >= 16 ? __mmask16(0xFFFF) : count <= 0 ? __mmask16(0) : __mmask16((1u << count) - 1);
}

// 16 floats → 16 bf16, round to nearest even (VCVTNEPS2BF16); lanes past `count` are 0.
BF16_FN inline __m256i to_bf16(const float* src, int count) {
  return (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(lanes(count), src));
}

// Permutation indices of the 16×16 transpose of 32-bit lanes: for block size b = 8, 4, 2, 1, registers i and i + b
// ((i & b) == 0) trade their off-diagonal b×b blocks (lo: i's new lanes, hi = lo + b: i + b's; 16+ = the second).
struct TransposeIndices {
  alignas(64) int32_t lo[4][16];
  alignas(64) int32_t hi[4][16];
  TransposeIndices() {
    for (int s = 0, b = 8; b >= 1; s++, b /= 2)
      for (int l = 0; l < 16; l++) {
        const int base = l / (2 * b) * 2 * b, off = l % (2 * b);
        lo[s][l] = off < b ? base + off : 16 + base + off - b;
        hi[s][l] = lo[s][l] + b;
      }
  }
};

// 16×16 transpose of 32-bit lanes, in registers (the recursive block swap): dst + c·stride receives (rows[0][c], …,
// rows[15][c]). Moves bf16 pairs between the row-pair layout read from a stored matrix and the packed layouts'
// pair-per-row order.
BF16_FN void transpose_pairs(__m512i rows[16], uint32_t* dst, int64_t stride) {
  static const TransposeIndices idx;
  for (int s = 0, b = 8; b >= 1; s++, b /= 2) {
    const __m512i lo = _mm512_load_si512(idx.lo[s]), hi = _mm512_load_si512(idx.hi[s]);
    for (int i = 0; i < 16; i++) {
      if (i & b) continue;
      const __m512i x = rows[i], y = rows[i + b];
      rows[i] = _mm512_permutex2var_epi32(x, lo, y);
      rows[i + b] = _mm512_permutex2var_epi32(x, hi, y);
    }
  }
  for (int c = 0; c < 16; c++) _mm512_storeu_si512(dst + c * stride, rows[c]);
}

// Rows `r` and `r + 1`'s 16 values at `src` and `src + ld` (zeros where the row is past `rows`, lanes past `count`)
// → 16 bf16 pairs: lane c holds (row r's c, row r + 1's c) — the VNNI pair both engines read.
BF16_FN inline __m512i pair_rows(const float* src, int64_t ld, int64_t r, int64_t rows, int count) {
  // Interleave 16 bf16 from each of two rows: lane 2c takes row 0's c, lane 2c+1 row 1's c.
  alignas(64) static const uint16_t kInterleave[32] = {0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39,
                                                       8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
  const __m256i even = r < rows ? to_bf16(src, count) : _mm256_setzero_si256();
  const __m256i odd = r + 1 < rows ? to_bf16(src + ld, count) : _mm256_setzero_si256();
  return _mm512_permutex2var_epi16(_mm512_castsi256_si512(even), _mm512_load_si512(kInterleave),
                                   _mm512_castsi256_si512(odd));
}

// Logical A [m, k] (stored [k, m] when trans) → 32-row blocks: block ib holds kp/32 depth steps of 32 rows × 32 bf16
// (rows past m and depth past k are 0). Work units [u0, u1) are row blocks, or for a transposed A depth steps, so that
// stored rows are always read sequentially: a transposed A is converted 16 rows × 16 depth pairs at a time and
// transposed into place (pack_a_units gives the count).
BF16_FN void pack_a(const float* a, bool trans, int64_t m, int64_t k, int64_t kp, int64_t u0, int64_t u1,
                    uint16_t* apack) {
  if (!trans) {
    for (int64_t i = u0 * kBlock; i < u1 * kBlock; i++) {
      uint16_t* dst = apack + (i / kBlock) * kBlock * kp + (i % kBlock) * kDepth;
      for (int64_t p = 0; p < kp; p += 16, dst += p % kDepth == 0 ? kBlock * kDepth - 16 : 16) {
        const int count = i < m ? static_cast<int>(std::clamp<int64_t>(k - p, 0, 16)) : 0;
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), to_bf16(a + i * k + p, count));
      }
    }
    return;
  }
  __m512i pairs[16];
  const int64_t mp = (m + kBlock - 1) / kBlock * kBlock;
  for (int64_t p0 = u0 * kDepth; p0 < u1 * kDepth; p0 += kDepth)
    for (int64_t i0 = 0; i0 < mp; i0 += 16) {
      const int count = static_cast<int>(std::clamp<int64_t>(m - i0, 0, 16));
      for (int64_t r = 0; r < 16; r++) pairs[r] = pair_rows(a + (p0 + 2 * r) * m + i0, m, p0 + 2 * r, k, count);
      // row i0 + c of this depth step: 16 pairs, one 32-bf16 tile row
      uint16_t* rows = apack + i0 / kBlock * kBlock * kp + p0 * kBlock + i0 % kBlock * kDepth;
      transpose_pairs(pairs, reinterpret_cast<uint32_t*>(rows), kDepth / 2);
    }
}

// pack_a's work units: row blocks, or depth steps for a transposed A.
int64_t pack_a_units(bool trans, int64_t m, int64_t kp) { return trans ? kp / kDepth : (m + kBlock - 1) / kBlock; }

// Logical B [k, n] (stored [n, k] when trans) → every 32-column panel: panel jb holds kp/2 pair rows of the 32
// columns' pairs (B[2r][j], B[2r+1][j]) (the VNNI layout both engines read). Work units [u0, u1) are groups of 16
// pair rows, or for a transposed B (whose stored rows are columns, already in pairs) groups of 16 columns, so that
// stored rows are read sequentially; 16 columns × 16 pairs are transposed into place at a time (pack_b_units gives
// the count).
BF16_FN void pack_b(const float* b, bool trans, int64_t k, int64_t n, int64_t kp, int64_t u0, int64_t u1,
                    uint16_t* bpack) {
  const int64_t np = (n + kBlock - 1) / kBlock * kBlock;
  if (!trans) {
    for (int64_t r = u0 * 16; r < u1 * 16; r++)
      for (int64_t j = 0; j < np; j += 16) {
        const int count = static_cast<int>(std::clamp<int64_t>(n - j, 0, 16));
        _mm512_storeu_si512(bpack + (j / kBlock) * kBlock * kp + r * 2 * kBlock + (j % kBlock) * 2,
                            pair_rows(b + 2 * r * n + j, n, 2 * r, k, count));
      }
    return;
  }
  __m512i pairs[16];
  for (int64_t j0 = u0 * 16; j0 < u1 * 16; j0 += 16)
    for (int64_t r = 0; r < kp / 2; r += 16) {
      // column j0 + c's 32 depths from 2r on, as 16 pairs (zeros past k and past n)
      const int64_t p = 2 * r;
      for (int64_t c = 0; c < 16; c++) {
        const float* col = b + (j0 + c) * k + p;
        const bool real = j0 + c < n;
        const int lo = real ? static_cast<int>(std::clamp<int64_t>(k - p, 0, 16)) : 0;
        const int hi = real ? static_cast<int>(std::clamp<int64_t>(k - p - 16, 0, 16)) : 0;
        // 32 bf16, nearest even: lanes 0-15 the first 16 depths, 16-31 the next
        pairs[c] = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(lanes(hi), col + 16),
                                                _mm512_maskz_loadu_ps(lanes(lo), col));
      }
      uint16_t* pair_row = bpack + (j0 / kBlock) * kBlock * kp + r * 2 * kBlock + (j0 % kBlock) * 2;
      transpose_pairs(pairs, reinterpret_cast<uint32_t*>(pair_row), kBlock);
    }
}

// pack_b's work units: groups of 16 pair rows, or of 16 columns for a transposed B.
int64_t pack_b_units(bool trans, int64_t n, int64_t kp) { return trans ? (n + kBlock - 1) / kBlock * 2 : kp / 32; }

// Row blocks [ib0, ib1) of the padded fp32 C (np columns), a group of row blocks at a time: for each depth slice of B,
// each row block's A slice meets every panel's slice in 2×2 tile accumulators, which are loaded from C after the
// first slice and stored back after each (the group's C rows and the B slice stay in L2 meanwhile).
AMX_FN void amx_rows(const uint16_t* apack, const uint16_t* bpack, float* cpad, int64_t np, int64_t kp, int64_t ib0,
                     int64_t ib1) {
  TileConfig cfg;
  for (int t = 0; t < 8; t++) {
    cfg.rows[t] = 16;
    cfg.colsb[t] = 64;
  }
  _tile_loadconfig(&cfg);
  const int64_t stride = np * 4;
  const int64_t width = std::min(np, kColumns);  // columns per chunk
  const int64_t slice = std::clamp<int64_t>(kSliceBytes / (width * 2) / kDepth * kDepth, kDepth, kp);
  const int64_t group = std::max<int64_t>(1, kGroupBytes / (kBlock * width * 4));
  for (int64_t j0 = 0; j0 < np; j0 += width)
  for (int64_t g0 = ib0; g0 < ib1; g0 += group) {
    const int64_t g1 = std::min(ib1, g0 + group);
    for (int64_t pc = 0; pc < kp; pc += slice) {
      const int64_t pend = std::min(kp, pc + slice);
      for (int64_t ib = g0; ib < g1; ib++) {
        const uint16_t* ablock = apack + ib * kBlock * kp;
        for (int64_t jb = j0 / kBlock; jb < std::min(np, j0 + width) / kBlock; jb++) {
          const uint16_t* bpanel = bpack + jb * kBlock * kp;
          float* c = cpad + ib * kBlock * np + jb * kBlock;
          if (pc == 0) {
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
          } else {
            _tile_loadd(0, c, stride);
            _tile_loadd(1, c + 16, stride);
            _tile_loadd(2, c + 16 * np, stride);
            _tile_loadd(3, c + 16 * np + 16, stride);
          }
          for (int64_t p0 = pc; p0 < pend; p0 += kDepth) {
            const uint16_t* at = ablock + p0 * kBlock;          // 32 rows × 32 bf16
            const uint16_t* bt = bpanel + p0 / 2 * 2 * kBlock;  // 16 pair rows × 32 columns × 2
            _tile_loadd(4, at, kDepth * 2);
            _tile_loadd(5, at + 16 * kDepth, kDepth * 2);
            _tile_loadd(6, bt, 4 * kBlock);
            _tile_loadd(7, bt + 32, 4 * kBlock);
            _tile_dpbf16ps(0, 4, 6);
            _tile_dpbf16ps(1, 4, 7);
            _tile_dpbf16ps(2, 5, 6);
            _tile_dpbf16ps(3, 5, 7);
          }
          _tile_stored(0, c, stride);
          _tile_stored(1, c + 16, stride);
          _tile_stored(2, c + 16 * np, stride);
          _tile_stored(3, c + 16 * np + 16, stride);
        }
      }
    }
  }
  _tile_release();
}

// Register block of the dot-product engine: kDotRows rows × 32 columns of C in 2·kDotRows zmm accumulators.
constexpr int64_t kDotRows = 8;
// Depth of one dot-engine slice: deeper products are cut into slices of this many bf16, each adding into C (so an A
// row block's slice and the B panels' slices it meets stay in cache however deep the product).
constexpr int64_t kDotDepth = 1024;
// Packed B bytes (panel slices) the dot engine keeps live per pass: a group of panels this large meets every row block
// of A in turn while it stays in L2, so A streams from memory once per group rather than once per panel.
constexpr int64_t kDotPanelBytes = 512 << 10;

// C rows [32·ib, 32·ib + 32) ∩ [0, m), columns [32·jb, 32·jb + 32) ∩ [0, n) (C is m×n, row-major) (+)= A row block ib
// · B panel jb over depths [p0, p1), in four 8-row register blocks: per pair row, two B vectors (32 columns' pairs)
// meet each row's broadcast A pair. The sum starts from C when `accumulate`, else from 0. Columns past n are masked
// off; rows past m are skipped.
BF16_FN void dot_block(const uint16_t* apack, const uint16_t* bpack, float* c, int64_t m, int64_t n, int64_t kp,
                       int64_t ib, int64_t jb, int64_t p0, int64_t p1, bool accumulate) {
  const uint16_t* ablock = apack + ib * kBlock * kp;  // [kp/32][32 rows][32 bf16]
  const uint16_t* bpanel = bpack + jb * kBlock * kp;  // [kp/2][32 columns][2 bf16]
  const int64_t j = jb * kBlock;
  const __mmask16 lo = lanes(static_cast<int>(std::min<int64_t>(n - j, 16)));
  const __mmask16 hi = lanes(static_cast<int>(std::min<int64_t>(n - j, 32)) - 16);
  for (int64_t r0 = 0; r0 < kBlock && ib * kBlock + r0 < m; r0 += kDotRows) {
    const int64_t rows = std::min(kDotRows, m - ib * kBlock - r0);
    float* crow = c + (ib * kBlock + r0) * n + j;
    __m512 acc[kDotRows][2];
    for (int64_t i = 0; i < kDotRows; i++) {
      const bool load = accumulate && i < rows;
      acc[i][0] = load ? _mm512_maskz_loadu_ps(lo, crow + i * n) : _mm512_setzero_ps();
      acc[i][1] = load ? _mm512_maskz_loadu_ps(hi, crow + i * n + 16) : _mm512_setzero_ps();
    }
    for (int64_t p = p0; p < p1; p += 2) {
      const uint16_t* bt = bpanel + p * kBlock;
      const __m512bh b0 = (__m512bh)_mm512_loadu_si512(bt);
      const __m512bh b1 = (__m512bh)_mm512_loadu_si512(bt + 32);
      const uint16_t* at = ablock + (p / kDepth) * kBlock * kDepth + r0 * kDepth + p % kDepth;
      for (int64_t i = 0; i < kDotRows; i++) {
        uint32_t pair;
        std::memcpy(&pair, at + i * kDepth, sizeof(pair));
        const __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(pair));
        acc[i][0] = _mm512_dpbf16_ps(acc[i][0], a, b0);
        acc[i][1] = _mm512_dpbf16_ps(acc[i][1], a, b1);
      }
    }
    for (int64_t i = 0; i < rows; i++) {
      _mm512_mask_storeu_ps(crow + i * n, lo, acc[i][0]);
      _mm512_mask_storeu_ps(crow + i * n + 16, hi, acc[i][1]);
    }
  }
}

thread_local Buffer a_scratch, b_scratch, c_scratch;

// C [m, n] = bf16(op(A))·bf16(op(B)), op(A) = A [m, k] (stored [k, m] when trans_a), op(B) = B [k, n] (stored [n, k]
// when trans_b): the transposes are read by the packing, never materialised. False when scratch memory could not be
// allocated. Requires unsupported_reason() == null.
bool matmul_bf16(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b) {
  if (m == 0 || n == 0) return true;
  if (k == 0) {
    std::memset(c, 0, static_cast<size_t>(m * n) * sizeof(float));
    return true;
  }
  const int64_t kp = (k + kDepth - 1) / kDepth * kDepth;
  const int64_t mp = (m + kBlock - 1) / kBlock * kBlock, np = (n + kBlock - 1) / kBlock * kBlock;
  const int64_t row_blocks = mp / kBlock, panels = np / kBlock;
  const bool amx = choice().engine == Engine::amx;
  uint16_t* apack = a_scratch.get(mp * kp);
  uint16_t* bpack = b_scratch.get(np * kp);
  // AMX accumulates C in a padded fp32 copy (2 × np·mp bf16 slots) unless it is already 32-aligned; the dot engine
  // stores into C directly.
  const bool padded = amx && (mp != m || np != n);
  float* cpad = padded ? reinterpret_cast<float*>(c_scratch.get(2 * mp * np)) : c;
  if (!apack || !bpack || !cpad) return false;
  // Below ~4 MFLOP the pool costs more than it saves.
  const bool small = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) < 4e6;
  const size_t grain = small ? SIZE_MAX : 1;
  parallel_for(pack_a_units(trans_a, m, kp), grain, [&](size_t u0, size_t u1) {
    pack_a(a, trans_a, m, k, kp, static_cast<int64_t>(u0), static_cast<int64_t>(u1), apack);
  });
  parallel_for(pack_b_units(trans_b, n, kp), grain, [&](size_t u0, size_t u1) {
    pack_b(b, trans_b, k, n, kp, static_cast<int64_t>(u0), static_cast<int64_t>(u1), bpack);
  });
  if (amx) {
    parallel_for(row_blocks, grain, [&](size_t ib0, size_t ib1) {
      amx_rows(apack, bpack, cpad, np, kp, static_cast<int64_t>(ib0), static_cast<int64_t>(ib1));
    });
    if (padded)
      for (int64_t i = 0; i < m; i++) std::memcpy(c + i * n, cpad + i * np, static_cast<size_t>(n) * sizeof(float));
    return true;
  }
  // Depth slices, each a pass over groups of panels whose slices stay in L2; within a pass, blocks row-block-major
  // (each A row block's slice meets the group's panels in turn, so A streams once per pass).
  const int64_t depth = std::min(kp, kDotDepth);
  const int64_t group = std::clamp<int64_t>(kDotPanelBytes / (kBlock * depth * 2), 1, panels);
  for (int64_t p0 = 0; p0 < kp; p0 += depth)
    for (int64_t jb0 = 0; jb0 < panels; jb0 += group) {
      const int64_t width = std::min(group, panels - jb0);
      parallel_for(static_cast<size_t>(row_blocks * width), grain, [&](size_t t0, size_t t1) {
        for (size_t t = t0; t < t1; t++)
          dot_block(apack, bpack, c, m, n, kp, static_cast<int64_t>(t) / width, jb0 + static_cast<int64_t>(t) % width, p0,
                    std::min(kp, p0 + depth), p0 > 0);
      });
    }
  return true;
}

constexpr const char* kFn = "matmulBf16";

Napi::Value MatmulBf16(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View<float> a, b, out;
  int64_t m, n, k;
  bool trans_a, trans_b;
  if (!f32_arg(info, kFn, 0, a) || !f32_arg(info, kFn, 1, b) || !f32_arg(info, kFn, 2, out) || !dim_arg(info, kFn, 3, m) ||
      !dim_arg(info, kFn, 4, n) || !dim_arg(info, kFn, 5, k) || !bool_arg(info, kFn, 6, trans_a) ||
      !bool_arg(info, kFn, 7, trans_b))
    return env.Undefined();
  if (const char* why = unsupported_reason()) {
    Napi::Error::New(env, std::string(kFn) + ": no bf16 engine: " + why).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const double dm = static_cast<double>(m), dn = static_cast<double>(n), dk = static_cast<double>(k);
  if (static_cast<double>(a.size) != dm * dk || static_cast<double>(b.size) != dk * dn ||
      static_cast<double>(out.size) != dm * dn) {
    Napi::TypeError::New(env, std::string(kFn) + ": expected a of m·k, b of k·n and out of m·n elements (m=" +
                                  std::to_string(m) + ", n=" + std::to_string(n) + ", k=" + std::to_string(k) + ")")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!matmul_bf16(a.data, b.data, out.data, m, n, k, trans_a, trans_b))
    Napi::RangeError::New(env, std::string(kFn) + ": out of memory for packing buffers").ThrowAsJavaScriptException();
  return env.Undefined();
}
MOELAB_EXPORT("matmulBf16", MatmulBf16);

Napi::Value MatmulBf16Support(const Napi::CallbackInfo& info) {
  const char* why = unsupported_reason();
  return why ? Napi::String::New(info.Env(), why) : info.Env().Null();
}
MOELAB_EXPORT("matmulBf16Support", MatmulBf16Support);

Napi::Value MatmulBf16Engine(const Napi::CallbackInfo& info) {
  switch (choice().engine) {
    case Engine::amx: return Napi::String::New(info.Env(), "amx");
    case Engine::dot: return Napi::String::New(info.Env(), "avx512bf16");
    default: return info.Env().Null();
  }
}
MOELAB_EXPORT("matmulBf16Engine", MatmulBf16Engine);

}  // namespace

bool amx_bf16_usable() {
  static const bool usable = cpu_features().amx_bf16 && cpu_features().avx512bf16 && best_isa() == Isa::avx512 &&
                             syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  return usable;
}

}  // namespace moelab
