// GatherV2 (copy the slices that indices pick along one axis, with batch dimensions) and UnsortedSegmentSum (add rows
// into the segments their ids name: gather's gradient, so embedding backprop runs here). The segment sum buckets rows
// by id first (counting sort), so each output row is summed once, in double, in row order, by one thread: no atomics,
// deterministic, and segments no row names are just zero-filled. Reference: tfjs-backend-cpu kernels GatherV2,
// GatherV2_impl, UnsortedSegmentSum (semantics: index checks, dropped ids).
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
constexpr int64_t kColumnChunk = 1024;  // columns a segment-sum task accumulates at a time (double, stays in L1)

// gather(x: Float32Array | Int32Array, indices: Int32Array, batch, outer, dim, slice: number, out: same type as x)
// -> number: with x viewed as [batch, outer, dim, slice] and indices as [batch, n], out[b, o, i, :] =
// x[b, o, indices[b, i], :]. Returns -1, or, having copied nothing, the position of the first index outside [0, dim).
Napi::Value Gather(const Napi::CallbackInfo& info) {
  const char* fn = "gather";
  View<uint32_t> x, out;
  View<int32_t> indices;
  napi_typedarray_type x_type, out_type;
  int64_t batch, outer, dim, slice;
  if (!words_arg(info, fn, 0, x, x_type) || !i32_arg(info, fn, 1, indices) || !int_arg(info, fn, 2, batch) ||
      !int_arg(info, fn, 3, outer) || !int_arg(info, fn, 4, dim) || !int_arg(info, fn, 5, slice) ||
      !words_arg(info, fn, 6, out, out_type)) {
    return info.Env().Undefined();
  }
  const int64_t n = batch > 0 ? static_cast<int64_t>(indices.size) / batch : 0;
  if (!require(info, batch > 0 && n * batch == static_cast<int64_t>(indices.size), fn,
               "batch must divide the number of indices") ||
      !require(info, static_cast<int64_t>(x.size) == batch * outer * dim * slice, fn,
               "x does not have the size batch * outer * dim * slice") ||
      !require(info, static_cast<int64_t>(out.size) == batch * outer * n * slice && out_type == x_type, fn,
               "out must be an array like x of size batch * outer * indices / batch * slice")) {
    return info.Env().Undefined();
  }
  for (size_t i = 0; i < indices.size; i++) {
    if (indices.data[i] < 0 || indices.data[i] >= dim) return Napi::Number::New(info.Env(), static_cast<double>(i));
  }
  const size_t grain = static_cast<size_t>(std::max<int64_t>(1, kTaskElements / std::max<int64_t>(slice, 1)));
  parallel_for(batch * outer * n, grain, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; r++) {  // output row r = (b, o, i)
      const int64_t i = r % n, bo = r / n, b = bo / outer;
      const uint32_t* src = x.data + (bo * dim + indices.data[b * n + i]) * slice;
      if (slice == 1) {
        out.data[r] = *src;
      } else {
        std::memcpy(out.data + r * slice, src, slice * sizeof(uint32_t));
      }
    }
  });
  return Napi::Number::New(info.Env(), -1);
}
MOELAB_EXPORT("gather", Gather);

struct SegmentCall {
  const float* x;
  float* out;
  const int64_t* start;  // rows of segment s: order[start[s] .. start[s + 1])
  const int64_t* order;
  int64_t slice, chunk, chunks;
};

// Units [begin, end) = (segment, column chunk) pairs.
template <int W>
MOELAB_INLINE void segment_units_impl(const SegmentCall& c, size_t begin, size_t end) {
  double acc[kColumnChunk];
  for (size_t u = begin; u < end; u++) {
    const int64_t s = u / c.chunks, j0 = (u % c.chunks) * c.chunk, w = std::min(c.chunk, c.slice - j0);
    float* dst = c.out + s * c.slice + j0;
    if (c.start[s] == c.start[s + 1]) {
      std::fill(dst, dst + w, 0.f);
      continue;
    }
    std::fill(acc, acc + w, 0.0);
    for (int64_t k = c.start[s]; k < c.start[s + 1]; k++) simd::sum_cols<W>(acc, c.x + c.order[k] * c.slice + j0, w);
    simd::store_sums<W>(dst, acc, w, 1);
  }
}
MOELAB_SIMD_VARIANTS(void, segment_units, (const SegmentCall& c, size_t begin, size_t end), (c, begin, end))

// unsortedSegmentSum(x: Float32Array, ids: Int32Array, numSegments: number, out: Float32Array): with x viewed as
// [ids.length, slice], out[s, :] = Σ x[m, :] over the rows m with ids[m] == s (0 for none); ids outside
// [0, numSegments) are dropped, as tfjs cpu does.
Napi::Value UnsortedSegmentSum(const Napi::CallbackInfo& info) {
  const char* fn = "unsortedSegmentSum";
  View<float> x, out;
  View<int32_t> ids;
  int64_t segments;
  if (!f32_arg(info, fn, 0, x) || !i32_arg(info, fn, 1, ids) || !int_arg(info, fn, 2, segments) ||
      !f32_arg(info, fn, 3, out)) {
    return info.Env().Undefined();
  }
  const int64_t rows = static_cast<int64_t>(ids.size);
  const int64_t slice = rows > 0 ? static_cast<int64_t>(x.size) / rows : 0;
  if (!require(info, rows > 0 && slice * rows == static_cast<int64_t>(x.size), fn,
               "the number of ids must divide the size of x") ||
      !require(info, static_cast<int64_t>(out.size) == segments * slice, fn,
               "out must have numSegments * slice elements")) {
    return info.Env().Undefined();
  }
  if (out.size == 0) return info.Env().Undefined();
  std::vector<int64_t> start(segments + 1, 0), order;
  for (int64_t m = 0; m < rows; m++) {
    if (ids.data[m] >= 0 && ids.data[m] < segments) start[ids.data[m] + 1]++;
  }
  for (int64_t s = 0; s < segments; s++) start[s + 1] += start[s];
  order.resize(start[segments]);
  std::vector<int64_t> next(start.begin(), start.end() - 1);
  for (int64_t m = 0; m < rows; m++) {
    if (ids.data[m] >= 0 && ids.data[m] < segments) order[next[ids.data[m]]++] = m;
  }
  SegmentCall c{x.data, out.data, start.data(), order.data(), slice, std::min(slice, kColumnChunk), 1};
  c.chunks = (slice + c.chunk - 1) / c.chunk;
  const int64_t per_unit = c.chunk * (1 + static_cast<int64_t>(order.size()) / segments);  // average work
  const size_t grain = static_cast<size_t>(std::max<int64_t>(1, kTaskElements / per_unit));
  auto units = segment_units_for_isa();
  parallel_for(segments * c.chunks, grain, [&](size_t b, size_t e) { units(c, b, e); });
  return info.Env().Undefined();
}
MOELAB_EXPORT("unsortedSegmentSum", UnsortedSegmentSum);

}  // namespace
}  // namespace moelab
