// Argument helpers and the block layout shared by the quantization kernels (quant_*.cc): byte typed arrays and the
// [rows, cols] block layout in which element (r, c) uses scale ⌊r/groupRows⌋·⌈cols/groupCols⌉ + ⌊c/groupCols⌉
// (per-tensor, per-row, 1×g groups and g×g blocks are all such layouts). Reference: DeepSeek-V3 inference/kernel.py.
#pragma once
#include <napi.h>

#include <cstdint>

#include "tensor.h"

namespace moelab {
namespace quant {

// The typed array of type `type` at info[index], or false after throwing.
template <typename T>
inline bool bytes_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, napi_typedarray_type type,
                      const char* what, View<T>& out) {
  if (info.Length() <= index || !info[index].IsTypedArray() || info[index].As<Napi::TypedArray>().TypedArrayType() != type) {
    throw_arg(info, fn, index, what);
    return false;
  }
  Napi::TypedArray a = info[index].As<Napi::TypedArray>();
  out.data = reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
  out.size = a.ElementLength();
  return true;
}

inline bool u8_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, View<uint8_t>& out) {
  return bytes_arg(info, fn, index, napi_uint8_array, "a Uint8Array", out);
}

inline bool i8_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, View<int8_t>& out) {
  return bytes_arg(info, fn, index, napi_int8_array, "an Int8Array", out);
}

using ::moelab::bool_arg;  // (tensor.h)

inline void range_error(const Napi::CallbackInfo& info, const std::string& message) {
  Napi::RangeError::New(info.Env(), message).ThrowAsJavaScriptException();
}

// A [rows, cols] matrix cut into groupRows × groupCols blocks (groupCols divides cols; the last block row may be short).
struct BlockLayout {
  int64_t rows = 0, cols = 0, group_rows = 1, group_cols = 1;
  int64_t block_cols() const { return cols / group_cols; }
  int64_t blocks() const { return (rows + group_rows - 1) / group_rows * block_cols(); }
  // Scale index of the block holding row r, column c.
  int64_t block(int64_t r, int64_t c) const { return r / group_rows * block_cols() + c / group_cols; }
};

// Reads rows, cols, groupRows, groupCols at info[first..first+3] and checks them against `elements` values and
// `scales` scales; throws and returns false when they disagree.
inline bool layout_args(const Napi::CallbackInfo& info, const char* fn, size_t first, size_t elements, size_t scales,
                        BlockLayout& out) {
  if (!dim_arg(info, fn, first, out.rows) || !dim_arg(info, fn, first + 1, out.cols) ||
      !dim_arg(info, fn, first + 2, out.group_rows) || !dim_arg(info, fn, first + 3, out.group_cols)) {
    return false;
  }
  if (out.group_rows < 1 || out.group_cols < 1 || out.cols % out.group_cols != 0) {
    range_error(info, std::string(fn) + ": groupRows and groupCols must be ≥ 1 and groupCols must divide cols");
    return false;
  }
  if (static_cast<size_t>(out.rows * out.cols) != elements || static_cast<size_t>(out.blocks()) != scales) {
    range_error(info, std::string(fn) + ": the arrays must hold rows·cols values and one scale per block");
    return false;
  }
  return true;
}

}  // namespace quant
}  // namespace moelab
