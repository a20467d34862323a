// Transpose of a tensor of 32-bit elements (float32 or int32 bits) by any permutation. Size-1 dimensions are dropped
// and input dimensions that stay adjacent and in order are merged, so most permutations become a 2-D transpose, a
// batch of them (the last-two-axes swap), or a copy of contiguous rows. When the innermost axis moves, each task writes
// 16 output rows, sweeping the other axis in W×W tiles transposed in registers (every cache line read or written is
// used whole); when it stays, whole rows are copied. Reference: tfjs-backend-cpu kernels/Transpose_impl (semantics).
#include <algorithm>
#include <cstring>
#include <vector>

#include "layout.h"
#include "pool.h"
#include "reduce_simd.h"
#include "registry.h"

namespace moelab {
namespace {

constexpr int64_t kTaskElements = 1 << 14;
constexpr int64_t kRowBlock = 16;  // output rows per task in the tiled path

// The coalesced problem: input dimensions `size` (row-major) and output dimension i = input dimension perm[i].
struct Coalesced {
  std::vector<int64_t> size, perm;
};

Coalesced coalesce(const std::vector<int64_t>& shape, const std::vector<int64_t>& perm) {
  std::vector<int64_t> index(shape.size(), -1), sizes, p;
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] != 1) {
      index[d] = static_cast<int64_t>(sizes.size());
      sizes.push_back(shape[d]);
    }
  }
  for (int64_t d : perm) {
    if (index[d] >= 0) p.push_back(index[d]);
  }
  std::vector<int64_t> pos(sizes.size()), group(sizes.size());
  for (size_t i = 0; i < p.size(); i++) pos[p[i]] = static_cast<int64_t>(i);
  Coalesced c;
  for (size_t d = 0; d < sizes.size(); d++) {  // input dimension d joins d-1's group if it follows it in the output too
    if (d == 0 || pos[d] != pos[d - 1] + 1) c.size.push_back(1);
    group[d] = static_cast<int64_t>(c.size.size()) - 1;
    c.size.back() *= sizes[d];
  }
  for (size_t i = 0; i < p.size(); i++) {
    if (i == 0 || p[i] != p[i - 1] + 1) c.perm.push_back(group[p[i]]);
  }
  return c;
}

// The tiled problem: out[rest][a][..][b] = in[rest][b][..][a] where a is the input's innermost axis (stride 1 in the
// input, `out_a` in the output) and b the output's innermost (stride `in_b` in the input, 1 in the output).
struct TileCall {
  const uint32_t* in;
  uint32_t* out;
  std::vector<Run> rest;  // the other output dimensions: input strides, output strides (stride2)
  int64_t a_size, b_size, in_b, out_a;
  int64_t a_blocks, b_chunk, b_chunks;
};

template <int W>
MOELAB_INLINE typename simd::V<W>::i32 zip_mask(int first) {  // lanes first, W + first, first + 1, W + first + 1, ...
  typename simd::V<W>::i32 m;
  for (int k = 0; k < W / 2; k++) {
    m[2 * k] = first + k;
    m[2 * k + 1] = first + k + W;
  }
  return m;
}

// Transposes the W×W tile in[j * in_stride + i] into out[i * out_stride + j]: log2(W) rounds of interleaving rows
// i and i + W/2 (each round is a perfect shuffle of the index bits).
template <int W>
MOELAB_INLINE void transpose_tile(const uint32_t* in, int64_t in_stride, uint32_t* out, int64_t out_stride) {
  using f32 = typename simd::V<W>::f32;
  f32 r[W], t[W];
  for (int j = 0; j < W; j++) std::memcpy(&r[j], in + j * in_stride, sizeof r[j]);
  for (int round = 1; round < W; round *= 2) {
    for (int i = 0; i < W / 2; i++) {
      t[2 * i] = __builtin_shuffle(r[i], r[i + W / 2], zip_mask<W>(0));
      t[2 * i + 1] = __builtin_shuffle(r[i], r[i + W / 2], zip_mask<W>(W / 2));
    }
    std::copy(t, t + W, r);
  }
  for (int i = 0; i < W; i++) std::memcpy(out + i * out_stride, &r[i], sizeof r[i]);
}

template <int W>
MOELAB_INLINE void transpose_units_impl(const TileCall& c, size_t begin, size_t end) {
  for (size_t u = begin; u < end; u++) {
    const int64_t per_rest = c.a_blocks * c.b_chunks;
    const Walker w(c.rest, u / per_rest);
    const uint32_t* in = c.in + w.offset();
    uint32_t* out = c.out + w.offset2();
    const int64_t a0 = (u % per_rest) / c.b_chunks * kRowBlock, a1 = std::min(c.a_size, a0 + kRowBlock);
    const int64_t b0 = (u % c.b_chunks) * c.b_chunk, b1 = std::min(c.b_size, b0 + c.b_chunk);
    for (int64_t b = b0; b < b1; b += W) {
      for (int64_t a = a0; a < a1; a += W) {
        if (a + W <= a1 && b + W <= b1) {
          transpose_tile<W>(in + b * c.in_b + a, c.in_b, out + a * c.out_a + b, c.out_a);
          continue;
        }
        for (int64_t i = a; i < std::min(a + W, a1); i++) {
          for (int64_t j = b; j < std::min(b + W, b1); j++) out[i * c.out_a + j] = in[j * c.in_b + i];
        }
      }
    }
  }
}
MOELAB_SIMD_VARIANTS(void, transpose_units, (const TileCall& c, size_t begin, size_t end), (c, begin, end))

// transpose(x: Float32Array | Int32Array, shape: number[], perm: number[], out: same type as x): out = x with its
// axes permuted, out's dimension i being x's dimension perm[i].
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  const char* fn = "transpose";
  View<uint32_t> x, out;
  napi_typedarray_type x_type, out_type;
  std::vector<int64_t> shape, perm;
  if (!words_arg(info, fn, 0, x, x_type) || !dims_arg(info, fn, 1, shape) || !dims_arg(info, fn, 2, perm) ||
      !words_arg(info, fn, 3, out, out_type)) {
    return info.Env().Undefined();
  }
  std::vector<bool> seen(shape.size(), false);
  bool is_perm = perm.size() == shape.size();
  for (int64_t d : perm) {
    is_perm = is_perm && d < static_cast<int64_t>(shape.size()) && !seen[d];
    if (is_perm) seen[d] = true;
  }
  if (!require(info, is_perm, fn, "perm must be a permutation of the axes of shape") ||
      !require(info, static_cast<int64_t>(x.size) == product(shape), fn, "x does not have the size of shape") ||
      !require(info, out.size == x.size && out_type == x_type, fn, "out must be an array like x")) {
    return info.Env().Undefined();
  }
  if (x.size == 0) return info.Env().Undefined();
  const Coalesced c = coalesce(shape, perm);
  const size_t k = c.size.size();
  if (k <= 1) {
    std::memcpy(out.data, x.data, x.size * sizeof(uint32_t));
    return info.Env().Undefined();
  }
  std::vector<int64_t> in_stride(k, 1), out_stride(k, 1);
  for (size_t d = k - 1; d-- > 0;) in_stride[d] = in_stride[d + 1] * c.size[d + 1];
  for (size_t i = k - 1; i-- > 0;) out_stride[i] = out_stride[i + 1] * c.size[c.perm[i + 1]];
  if (c.perm[k - 1] == static_cast<int64_t>(k) - 1) {  // the innermost axis stays: copy rows of `row` elements
    const int64_t row = c.size[k - 1];
    std::vector<Run> outer;
    for (size_t i = 0; i + 1 < k; i++) outer.push_back({c.size[c.perm[i]], in_stride[c.perm[i]]});
    const size_t grain = static_cast<size_t>(std::max<int64_t>(1, kTaskElements / row));
    parallel_for(x.size / row, grain, [&](size_t b, size_t e) {
      Walker w(outer, b);
      for (size_t r = b; r < e; r++, w.next()) {
        std::memcpy(out.data + r * row, x.data + w.offset(), row * sizeof(uint32_t));
      }
    });
    return info.Env().Undefined();
  }
  TileCall t{x.data, out.data, {}, 0, 0, 0, 0, 0, 0, 1};
  const int64_t b = c.perm[k - 1];
  for (size_t i = 0; i < k; i++) {
    if (c.perm[i] == static_cast<int64_t>(k) - 1) {
      t.a_size = c.size[k - 1];
      t.out_a = out_stride[i];
    } else if (i + 1 < k) {
      t.rest.push_back({c.size[c.perm[i]], in_stride[c.perm[i]], out_stride[i]});
    }
  }
  t.b_size = c.size[b];
  t.in_b = in_stride[b];
  t.a_blocks = (t.a_size + kRowBlock - 1) / kRowBlock;
  const int64_t rest_count = static_cast<int64_t>(x.size) / (t.a_size * t.b_size);
  t.b_chunk = t.b_size;
  if (rest_count * t.a_blocks < 4 * pool().size()) {  // too few row blocks to share: split the swept axis too
    t.b_chunk = std::max<int64_t>(64, (t.b_size / (4 * pool().size()) + 15) / 16 * 16);
  }
  t.b_chunks = (t.b_size + t.b_chunk - 1) / t.b_chunk;
  const size_t grain = static_cast<size_t>(std::max<int64_t>(1, kTaskElements / (kRowBlock * t.b_chunk)));
  auto units = transpose_units_for_isa();
  parallel_for(rest_count * t.a_blocks * t.b_chunks, grain, [&](size_t lo, size_t hi) { units(t, lo, hi); });
  return info.Env().Undefined();
}
MOELAB_EXPORT("transpose", Transpose);

}  // namespace
}  // namespace moelab
