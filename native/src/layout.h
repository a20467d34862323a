// Shapes and strides for the reduction and layout kernels: argument readers for shapes/axes/permutations and 32-bit
// data of either dtype, and a walker over the memory offsets of a strided index space. Reference: tensor.h (argument
// conventions), tfjs util.computeStrides (row-major strides).
#pragma once
#include <napi.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tensor.h"

namespace moelab {

// The highest rank the kernels take (after dropping size-1 dimensions nothing needs more than the input rank).
constexpr size_t kMaxRank = 16;

// A RangeError naming the function when `ok` is false; returns ok (the caller returns env.Undefined() on false).
inline bool require(const Napi::CallbackInfo& info, bool ok, const char* fn, const std::string& what) {
  if (!ok) Napi::RangeError::New(info.Env(), std::string(fn) + ": " + what).ThrowAsJavaScriptException();
  return ok;
}

// The array of at most kMaxRank non-negative integers at info[index] (a shape, axes or a permutation), or false after
// throwing.
inline bool dims_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, std::vector<int64_t>& out) {
  const char* expected = "an array of at most 16 non-negative integers";
  if (info.Length() <= index || !info[index].IsArray()) {
    throw_arg(info, fn, index, expected);
    return false;
  }
  Napi::Array a = info[index].As<Napi::Array>();
  if (a.Length() > kMaxRank) {
    throw_arg(info, fn, index, expected);
    return false;
  }
  out.resize(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value v = a.Get(i);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0) || d != static_cast<double>(static_cast<int64_t>(d))) {
      throw_arg(info, fn, index, expected);
      return false;
    }
    out[i] = static_cast<int64_t>(d);
  }
  return true;
}

// The Float32Array or Int32Array at info[index] as 32-bit words: copy kernels move bits, whatever the dtype.
inline bool words_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, View<uint32_t>& out,
                      napi_typedarray_type& type) {
  if (info.Length() > index && info[index].IsTypedArray()) {
    Napi::TypedArray a = info[index].As<Napi::TypedArray>();
    type = a.TypedArrayType();
    if (type == napi_float32_array || type == napi_int32_array) {
      out.data = reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
      out.size = a.ElementLength();
      return true;
    }
  }
  throw_arg(info, fn, index, "a Float32Array or an Int32Array");
  return false;
}

inline int64_t product(const std::vector<int64_t>& dims) {
  int64_t p = 1;
  for (int64_t d : dims) p *= d;
  return p;
}

// A dimension of a strided index space: its extent and its strides (in elements) in up to two arrays.
struct Run {
  int64_t size;
  int64_t stride;
  int64_t stride2 = 0;
};

// Visits a row-major index space over `runs` (outermost first) from a flat index, keeping the matching offset in
// each array; next() moves to the following index in amortised O(1).
class Walker {
 public:
  Walker(const std::vector<Run>& runs, int64_t start) : runs_(runs) {
    for (size_t d = runs.size(); d-- > 0;) {
      pos_[d] = start % runs[d].size;
      start /= runs[d].size;
      offset_ += pos_[d] * runs[d].stride;
      offset2_ += pos_[d] * runs[d].stride2;
    }
  }
  int64_t offset() const { return offset_; }
  int64_t offset2() const { return offset2_; }
  void next() {
    for (size_t d = runs_.size(); d-- > 0;) {
      offset_ += runs_[d].stride;
      offset2_ += runs_[d].stride2;
      if (++pos_[d] < runs_[d].size) return;
      offset_ -= pos_[d] * runs_[d].stride;
      offset2_ -= pos_[d] * runs_[d].stride2;
      pos_[d] = 0;
    }
  }

 private:
  const std::vector<Run>& runs_;
  std::array<int64_t, kMaxRank> pos_{};
  int64_t offset_ = 0, offset2_ = 0;
};

}  // namespace moelab
