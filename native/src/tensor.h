// Zero-copy views of JavaScript typed arrays and argument checks for exported functions. Argument errors throw a
// JavaScript TypeError/RangeError naming the function and argument (exceptions are off: napi_throw + return).
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace moelab {

template <typename T>
struct View {
  T* data = nullptr;
  size_t size = 0;
};

// Reports a bad argument to JavaScript; the caller returns env.Undefined() afterwards.
inline void throw_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, const std::string& expected) {
  Napi::TypeError::New(info.Env(), std::string(fn) + ": argument " + std::to_string(index) + " must be " + expected)
      .ThrowAsJavaScriptException();
}

// The Float32Array at info[index], or false after throwing.
inline bool f32_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, View<float>& out) {
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw_arg(info, fn, index, "a Float32Array");
    return false;
  }
  Napi::Float32Array a = info[index].As<Napi::Float32Array>();
  out.data = a.Data();
  out.size = a.ElementLength();
  return true;
}

// The Int32Array at info[index], or false after throwing.
inline bool i32_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, View<int32_t>& out) {
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw_arg(info, fn, index, "an Int32Array");
    return false;
  }
  Napi::Int32Array a = info[index].As<Napi::Int32Array>();
  out.data = a.Data();
  out.size = a.ElementLength();
  return true;
}

// A non-negative integer (as a double-safe int64) at info[index], or false after throwing.
inline bool int_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, int64_t& out) {
  if (info.Length() <= index || !info[index].IsNumber()) {
    throw_arg(info, fn, index, "a number");
    return false;
  }
  const double v = info[index].As<Napi::Number>().DoubleValue();
  if (!(v >= 0) || v != static_cast<double>(static_cast<int64_t>(v))) {
    throw_arg(info, fn, index, "a non-negative integer");
    return false;
  }
  out = static_cast<int64_t>(v);
  return true;
}

// The boolean at info[index], or false after throwing.
inline bool bool_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, bool& out) {
  if (info.Length() <= index || !info[index].IsBoolean()) {
    throw_arg(info, fn, index, "a boolean");
    return false;
  }
  out = info[index].As<Napi::Boolean>().Value();
  return true;
}

// A matrix dimension at info[index]: a non-negative integer below 2^31, or false after throwing.
inline bool dim_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, int64_t& out) {
  if (!int_arg(info, fn, index, out)) return false;
  if (out > INT32_MAX) {
    throw_arg(info, fn, index, "below 2^31");
    return false;
  }
  return true;
}

}  // namespace moelab
