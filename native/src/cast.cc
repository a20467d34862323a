// Cast between tfjs's float32 (Float32Array), int32 (Int32Array) and bool (Uint8Array) storage, exported as
// castValues, with tfjs-backend-cpu's semantics (kernels/Cast.js): to int32 is Int32Array.from (JavaScript ToInt32:
// truncation toward zero, NaN and ±Inf give 0, values beyond ±2^31 wrap modulo 2^32), to bool is x !== 0 (NaN gives
// true), to float32 rounds to nearest.
#include <cmath>
#include <cstring>

#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

constexpr size_t kParallelGrain = 1 << 17;

// JavaScript's ToInt32 of a float32 value.
inline int32_t to_int32(float x) {
  if (std::fabs(x) < 2147483648.0f) return static_cast<int32_t>(x);
  if (!std::isfinite(x)) return 0;
  // |x| >= 2^31 is an integer: keep its low 32 bits (from 2^63 on, float32 values are multiples of 2^40).
  if (std::fabs(x) < 9223372036854775808.0f) {
    return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(static_cast<int64_t>(x))));
  }
  return 0;
}

template <typename From, typename To, typename Convert>
void convert(const From* x, To* y, size_t n, Convert c) {
  parallel_for(n, kParallelGrain, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++) y[i] = c(x[i]);
  });
}

struct Typed {
  napi_typedarray_type type;
  void* data;
  size_t size;
};

bool typed_arg(const Napi::CallbackInfo& info, size_t index, Typed& out) {
  if (info.Length() > index && info[index].IsTypedArray()) {
    Napi::TypedArray a = info[index].As<Napi::TypedArray>();
    const napi_typedarray_type t = a.TypedArrayType();
    if (t == napi_float32_array || t == napi_int32_array || t == napi_uint8_array) {
      out = {t, static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset(), a.ElementLength()};
      return true;
    }
  }
  throw_arg(info, "castValues", index, "a Float32Array, Int32Array or Uint8Array");
  return false;
}

// castValues(x, out): out[i] = x[i] converted to out's type (Float32Array float32, Int32Array int32, Uint8Array bool).
Napi::Value CastValues(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Typed x, y;
  if (!typed_arg(info, 0, x) || !typed_arg(info, 1, y)) return env.Undefined();
  if (x.size != y.size) {
    throw_arg(info, "castValues", 1, "a typed array of " + std::to_string(x.size) + " elements (like x)");
    return env.Undefined();
  }
  const size_t n = x.size;
  if (n == 0) return env.Undefined();
  if (x.type == y.type) {
    std::memcpy(y.data, x.data, n * (x.type == napi_uint8_array ? 1 : 4));
    return env.Undefined();
  }
  const auto* xf = static_cast<const float*>(x.data);
  const auto* xi = static_cast<const int32_t*>(x.data);
  const auto* xb = static_cast<const uint8_t*>(x.data);
  switch (y.type) {
    case napi_float32_array:
      if (x.type == napi_int32_array) convert(xi, static_cast<float*>(y.data), n, [](int32_t v) { return static_cast<float>(v); });
      else convert(xb, static_cast<float*>(y.data), n, [](uint8_t v) { return static_cast<float>(v); });
      break;
    case napi_int32_array:
      if (x.type == napi_float32_array) convert(xf, static_cast<int32_t*>(y.data), n, to_int32);
      else convert(xb, static_cast<int32_t*>(y.data), n, [](uint8_t v) { return static_cast<int32_t>(v); });
      break;
    default:
      if (x.type == napi_float32_array) convert(xf, static_cast<uint8_t*>(y.data), n, [](float v) { return static_cast<uint8_t>(v != 0.0f); });
      else convert(xi, static_cast<uint8_t*>(y.data), n, [](int32_t v) { return static_cast<uint8_t>(v != 0); });
      break;
  }
  return env.Undefined();
}
MOELAB_EXPORT("castValues", CastValues);

}  // namespace
}  // namespace moelab
