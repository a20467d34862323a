// Full causal attention as batched GEMMs on the lab's sgemm (gemm.h), for the training shapes where the row kernels of
// attention_kernels.h ran at a few GFLOP/s: the g = H/Hkv query heads of one key/value head are one [g·T, dk] matrix
// (heads are consecutive in q), so a group's scores are one product S = Q·Kᵀ [g·T, S]; the visibility rule, the
// scale and the softmax run row by row (vector exp); out = P·V. The backward recomputes P from the saved log-sum-exp
// (FlashAttention's recipe, Dao et al. 2022) and runs dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ∘ (dP − rowsum(dO ∘ O))·scale,
// dQ = dS·K, dK = dSᵀ·Q, each one batched GEMM over the groups of a chunk. Masked keys get probability 0, so the
// products over all S keys give the causal result (twice the useful flops of a triangle, at GEMM speed).
#include "attention_gemm.h"

#include <algorithm>
#include <cmath>
#include <new>
#include <vector>

#include "cpu.h"
#include "gemm.h"
#include "pool.h"
#include "reduce_simd.h"

namespace moelab {
namespace {

// Scores held per buffer per chunk: 4M floats (16 MB). A chunk takes as many whole groups as fit.
constexpr int64_t kChunkFloats = int64_t(1) << 22;

// Keys visible to row r of a chunk's scores ([groups, g·T, S]): its query t = r mod T sits at position offset + t.
MOELAB_INLINE int64_t visible_keys(int64_t r, int64_t T, int64_t S, int64_t offset) {
  return std::max<int64_t>(0, std::min<int64_t>(S, offset + r % T + 1));
}

// Rows [begin, end) of scores s [rows, S] → probabilities in place (0 beyond the visible keys) and lse per row.
template <int W>
MOELAB_INLINE void probs_rows_impl(float* s, float* lse, int64_t T, int64_t S, int64_t offset, float scale,
                                   size_t begin, size_t end) {
  using f32 = typename simd::V<W>::f32;
  const f32 sc = simd::splat<W>(scale);
  for (size_t r = begin; r < end; r++) {
    float* row = s + r * S;
    const int64_t n = visible_keys(static_cast<int64_t>(r), T, S, offset);
    std::fill(row + n, row + S, 0.f);
    if (n == 0) {
      lse[r] = -simd::kInf;
      continue;
    }
    int64_t j = 0;
    for (; j + W <= n; j += W) simd::store<W>(row + j, simd::load<W>(row + j) * sc);
    for (; j < n; j++) row[j] *= scale;
    const float m = simd::max_row<W>(row, static_cast<size_t>(n));
    const double sum = simd::exp_shifted_row<W>(row, row, static_cast<size_t>(n), m);
    const f32 inv = simd::splat<W>(static_cast<float>(1.0 / sum));
    for (j = 0; j + W <= n; j += W) simd::store<W>(row + j, simd::load<W>(row + j) * inv);
    for (; j < n; j++) row[j] *= static_cast<float>(1.0 / sum);
    lse[r] = m + static_cast<float>(std::log(sum));
  }
}
MOELAB_SIMD_VARIANTS(void, probs_rows,
                     (float* s, float* lse, int64_t T, int64_t S, int64_t offset, float scale, size_t begin,
                      size_t end),
                     (s, lse, T, S, offset, scale, begin, end))

// Rows [begin, end): scores s → P = exp(scale·s − lse) in place, and dp (dO·Vᵀ) → dS = P ∘ (dp − D)·scale in place,
// with D = dout_r · out_r; both 0 beyond the visible keys.
template <int W>
MOELAB_INLINE void score_grads_impl(float* s, float* dp, const float* lse, const float* out, const float* dout,
                                    int64_t dv, int64_t T, int64_t S, int64_t offset, float scale, size_t begin,
                                    size_t end) {
  using f32 = typename simd::V<W>::f32;
  const f32 sc = simd::splat<W>(scale);
  for (size_t r = begin; r < end; r++) {
    float* p = s + r * S;
    float* d = dp + r * S;
    const int64_t n = visible_keys(static_cast<int64_t>(r), T, S, offset);
    float D = 0;
    for (int64_t c = 0; c < dv; c++) D += dout[r * dv + c] * out[r * dv + c];
    const f32 l = simd::splat<W>(lse[r]), Dv = simd::splat<W>(D);
    int64_t j = 0;
    for (; j + W <= n; j += W) {
      const f32 pj = simd::exp<W>(simd::load<W>(p + j) * sc - l);
      simd::store<W>(p + j, pj);
      simd::store<W>(d + j, pj * (simd::load<W>(d + j) - Dv) * sc);
    }
    if (j < n) {
      const f32 pj = simd::exp<W>(simd::load_part<W>(p + j, n - j, 0.f) * sc - l);
      simd::store_part<W>(p + j, pj, n - j);
      simd::store_part<W>(d + j, pj * (simd::load_part<W>(d + j, n - j, 0.f) - Dv) * sc, n - j);
    }
    std::fill(p + n, p + S, 0.f);
    std::fill(d + n, d + S, 0.f);
  }
}
MOELAB_SIMD_VARIANTS(void, score_grads,
                     (float* s, float* dp, const float* lse, const float* out, const float* dout, int64_t dv, int64_t T,
                      int64_t S, int64_t offset, float scale, size_t begin, size_t end),
                     (s, dp, lse, out, dout, dv, T, S, offset, scale, begin, end))

// One product per group of a chunk: A_i = a + i·a_step, B_i = b + i·b_step, C dense.
bool gemm_groups(const GemmShape& shape, int64_t groups, const float* a, int64_t a_step, const float* b,
                 int64_t b_step, float* c) {
  std::vector<int64_t> ao(static_cast<size_t>(groups)), bo(static_cast<size_t>(groups));
  for (int64_t i = 0; i < groups; i++) ao[i] = i * a_step, bo[i] = i * b_step;
  BatchOffsets offsets;
  offsets.a = ao.data();
  offsets.b = bo.data();
  return sgemm_batched(shape, groups, a, b, c, Epilogue{}, offsets);
}

GemmShape shape_of(int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b) {
  GemmShape s;
  s.m = m, s.n = n, s.k = k, s.trans_a = trans_a, s.trans_b = trans_b;
  return s;
}

size_t row_grain(int64_t S) { return static_cast<size_t>(std::max<int64_t>(1, 8192 / std::max<int64_t>(S, 1))); }

}  // namespace

bool attention_gemm_applies(const AttentionDims& d) {
  return d.window == 0 && d.S > 0 && d.T > 0 && d.dk > 0 && d.dv > 0 && (d.H / d.Hkv) * d.T * d.S <= kChunkFloats;
}

bool attention_forward_gemm(const AttentionDims& d, const float* q, const float* k, const float* v, float* out,
                            float* lse) {
  const int64_t rows = (d.H / d.Hkv) * d.T, groups = d.B * d.Hkv;
  const int64_t per = std::min(groups, std::max<int64_t>(1, kChunkFloats / (rows * d.S)));
  std::vector<float> s;
  try {
    s.resize(static_cast<size_t>(per * rows * d.S));
  } catch (const std::bad_alloc&) {
    return false;
  }
  const auto probs = probs_rows_for_isa();
  for (int64_t g0 = 0; g0 < groups; g0 += per) {
    const int64_t n = std::min(per, groups - g0);
    // scores [n, g·T, S] = Q_i · K_iᵀ
    if (!gemm_groups(shape_of(rows, d.S, d.dk, false, true), n, q + g0 * rows * d.dk, rows * d.dk,
                     k + g0 * d.S * d.dk, d.S * d.dk, s.data()))
      return false;
    float* l = lse + g0 * rows;
    parallel_for(static_cast<size_t>(n * rows), row_grain(d.S), [&](size_t b0, size_t b1) {
      probs(s.data(), l, d.T, d.S, d.offset, d.scale, b0, b1);
    });
    // out [n, g·T, dv] = P_i · V_i
    if (!gemm_groups(shape_of(rows, d.dv, d.S, false, false), n, s.data(), rows * d.S, v + g0 * d.S * d.dv,
                     d.S * d.dv, out + g0 * rows * d.dv))
      return false;
  }
  return true;
}

bool attention_backward_gemm(const AttentionDims& d, const float* q, const float* k, const float* v, const float* out,
                             const float* lse, const float* dout, float* dq, float* dk, float* dv) {
  const int64_t rows = (d.H / d.Hkv) * d.T, groups = d.B * d.Hkv;
  const int64_t per = std::min(groups, std::max<int64_t>(1, kChunkFloats / (rows * d.S)));
  std::vector<float> s, dp;
  try {
    s.resize(static_cast<size_t>(per * rows * d.S));
    dp.resize(s.size());
  } catch (const std::bad_alloc&) {
    return false;
  }
  const auto grads = score_grads_for_isa();
  for (int64_t g0 = 0; g0 < groups; g0 += per) {
    const int64_t n = std::min(per, groups - g0);
    const float* qc = q + g0 * rows * d.dk;
    const float* kc = k + g0 * d.S * d.dk;
    const float* vc = v + g0 * d.S * d.dv;
    const float* oc = out + g0 * rows * d.dv;
    const float* doc = dout + g0 * rows * d.dv;
    // scores again, and dP = dO_i · V_iᵀ [n, g·T, S]
    if (!gemm_groups(shape_of(rows, d.S, d.dk, false, true), n, qc, rows * d.dk, kc, d.S * d.dk, s.data()) ||
        !gemm_groups(shape_of(rows, d.S, d.dv, false, true), n, doc, rows * d.dv, vc, d.S * d.dv, dp.data()))
      return false;
    const float* l = lse + g0 * rows;
    parallel_for(static_cast<size_t>(n * rows), row_grain(d.S), [&](size_t b0, size_t b1) {
      grads(s.data(), dp.data(), l, oc, doc, d.dv, d.T, d.S, d.offset, d.scale, b0, b1);
    });
    // dV_i = P_iᵀ · dO_i [S, dv], dQ_i = dS_i · K_i [g·T, dk], dK_i = dS_iᵀ · Q_i [S, dk]
    if (!gemm_groups(shape_of(d.S, d.dv, rows, true, false), n, s.data(), rows * d.S, doc, rows * d.dv,
                     dv + g0 * d.S * d.dv) ||
        !gemm_groups(shape_of(rows, d.dk, d.S, false, false), n, dp.data(), rows * d.S, kc, d.S * d.dk,
                     dq + g0 * rows * d.dk) ||
        !gemm_groups(shape_of(d.S, d.dk, rows, true, false), n, dp.data(), rows * d.S, qc, rows * d.dk,
                     dk + g0 * d.S * d.dk))
      return false;
  }
  return true;
}

}  // namespace moelab
