// Strided block copy of 32-bit words (float32 or int32 bits), the body of the native Slice, SplitV and Concat kernels:
// copies a box of extent `size` starting at `srcBegin` in a row-major source into the box starting at `dstBegin` in a
// row-major destination. Trailing dimensions the box spans whole in both arrays merge into one contiguous run, so
// every row is one memcpy; large copies split their rows over the pool. Reference: tfjs-backend-cpu kernels
// Slice, SplitV, Concat (semantics; the JavaScript side normalises the attributes as they do).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "layout.h"
#include "pool.h"
#include "registry.h"

namespace moelab {
namespace {

constexpr int64_t kParallelWords = 1 << 17;  // copies below this many words run on the caller
constexpr int64_t kTaskWords = 1 << 15;      // words per task when split over the pool

std::vector<int64_t> strides_of(const std::vector<int64_t>& shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) s[d - 1] = s[d] * shape[d];
  return s;
}

// copyBlock(src, srcShape, srcBegin, dst, dstShape, dstBegin, size)
Napi::Value CopyBlock(const Napi::CallbackInfo& info) {
  const char* fn = "copyBlock";
  View<uint32_t> src, dst;
  napi_typedarray_type src_type, dst_type;
  std::vector<int64_t> src_shape, src_begin, dst_shape, dst_begin, size;
  if (!words_arg(info, fn, 0, src, src_type) || !dims_arg(info, fn, 1, src_shape) ||
      !dims_arg(info, fn, 2, src_begin) || !words_arg(info, fn, 3, dst, dst_type) ||
      !dims_arg(info, fn, 4, dst_shape) || !dims_arg(info, fn, 5, dst_begin) || !dims_arg(info, fn, 6, size)) {
    return info.Env().Undefined();
  }
  const size_t rank = size.size();
  if (!require(info, src_type == dst_type, fn, "src and dst must be typed arrays of the same type") ||
      !require(info,
               src_shape.size() == rank && src_begin.size() == rank && dst_shape.size() == rank &&
                   dst_begin.size() == rank,
               fn, "srcShape, srcBegin, dstShape, dstBegin and size must have the same length") ||
      !require(info, static_cast<size_t>(product(src_shape)) == src.size, fn, "src length must match srcShape") ||
      !require(info, static_cast<size_t>(product(dst_shape)) == dst.size, fn, "dst length must match dstShape")) {
    return info.Env().Undefined();
  }
  for (size_t d = 0; d < rank; d++) {
    if (!require(info, src_begin[d] + size[d] <= src_shape[d] && dst_begin[d] + size[d] <= dst_shape[d], fn,
                 "the box at dimension " + std::to_string(d) + " must lie inside both arrays")) {
      return info.Env().Undefined();
    }
  }
  if (product(size) == 0) return info.Env().Undefined();

  const std::vector<int64_t> ss = strides_of(src_shape), ds = strides_of(dst_shape);
  int64_t src_base = 0, dst_base = 0;
  for (size_t d = 0; d < rank; d++) {
    src_base += src_begin[d] * ss[d];
    dst_base += dst_begin[d] * ds[d];
  }
  // The contiguous run: trailing dimensions spanned whole in both arrays, plus the first one that is not.
  size_t outer = rank;
  int64_t inner = 1;
  while (outer > 0) {
    outer--;
    inner *= size[outer];
    if (size[outer] != src_shape[outer] || size[outer] != dst_shape[outer]) break;
  }
  std::vector<Run> runs;
  for (size_t d = 0; d < outer; d++) {
    if (size[d] != 1) runs.push_back({size[d], ss[d], ds[d]});
  }
  int64_t rows = 1;
  for (const Run& r : runs) rows *= r.size;

  const uint32_t* from = src.data + src_base;
  uint32_t* to = dst.data + dst_base;
  const size_t bytes = static_cast<size_t>(inner) * sizeof(uint32_t);
  auto body = [&](size_t begin, size_t end) {
    Walker w(runs, static_cast<int64_t>(begin));
    for (size_t i = begin; i < end; i++, w.next()) std::memcpy(to + w.offset2(), from + w.offset(), bytes);
  };
  if (rows * inner < kParallelWords) {
    body(0, static_cast<size_t>(rows));
  } else {
    parallel_for(static_cast<size_t>(rows), static_cast<size_t>(std::max<int64_t>(1, kTaskWords / inner)), body);
  }
  return info.Env().Undefined();
}

}  // namespace

MOELAB_EXPORT("copyBlock", CopyBlock);

}  // namespace moelab
