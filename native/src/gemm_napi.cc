// JavaScript entry points of sgemm (gemm.h):
//   matmul(a, b, out, m, n, k, transA, transB, aOffsets, bOffsets, epilogue?) -> undefined
//     a, b, out: Float32Array; batch = aOffsets.length = bOffsets.length (Float64Array of element offsets);
//     out[i·m·n ..] = epilogue(op(a + aOffsets[i]) · op(b + bOffsets[i])), A_i [m,k] ([k,m] when transA),
//     B_i [k,n] ([n,k] when transB). epilogue: { activation?: "linear"|"relu"|"relu6"|"elu"|"sigmoid"|"leakyrelu"|
//     "prelu", alpha?: number, bias?: Operand, prelu?: Operand } where Operand = { data: Float32Array,
//     offsets: Float64Array (one per batch), rowStride: number, colStride: 0 | 1 }.
//   matmulKernel() -> "avx512" | "avx2" | "portable": the micro-kernel family in use.
// Every offset and extent is checked against the arrays' lengths before any work starts.
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gemm.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

constexpr const char* kFn = "matmul";

void throw_type(const Napi::Env& env, const std::string& what) {
  Napi::TypeError::New(env, std::string(kFn) + ": " + what).ThrowAsJavaScriptException();
}

// Element offsets (a Float64Array of non-negative integers) such that every [offset, offset + extent) lies in
// [0, length). `what` names the value in errors.
bool offsets_arg(const Napi::Env& env, const Napi::Value& v, const std::string& what, size_t length, int64_t extent,
                 std::vector<int64_t>& out) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw_type(env, what + " must be a Float64Array");
    return false;
  }
  Napi::Float64Array arr = v.As<Napi::Float64Array>();
  out.resize(arr.ElementLength());
  for (size_t i = 0; i < out.size(); i++) {
    const double o = arr[i];
    if (!(o >= 0) || o != static_cast<double>(static_cast<int64_t>(o)) ||
        (extent > 0 && static_cast<double>(extent) + o > static_cast<double>(length))) {
      throw_type(env, what + "[" + std::to_string(i) + "] = " + std::to_string(o) + " must be an integer offset with " +
                          std::to_string(extent) + " elements after it inside an array of " + std::to_string(length));
      return false;
    }
    out[i] = static_cast<int64_t>(o);
  }
  return true;
}

bool number_field(const Napi::Env& env, const Napi::Object& obj, const char* key, const std::string& what, double& out) {
  Napi::Value v = obj.Get(key);
  if (!v.IsNumber()) {
    throw_type(env, what + "." + key + " must be a number");
    return false;
  }
  out = v.As<Napi::Number>().DoubleValue();
  return true;
}

// An epilogue operand (bias or prelu slopes) broadcast over every [m, n] output matrix.
bool broadcast_field(const Napi::Env& env, const Napi::Object& ep, const char* key, int64_t m, int64_t n,
                     size_t batch, Broadcast& out, std::vector<int64_t>& offsets) {
  const std::string what = std::string("epilogue.") + key;
  Napi::Value v = ep.Get(key);
  if (v.IsUndefined() || v.IsNull()) return true;
  if (!v.IsObject()) {
    throw_type(env, what + " must be {data, offsets, rowStride, colStride}");
    return false;
  }
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value data = o.Get("data");
  if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw_type(env, what + ".data must be a Float32Array");
    return false;
  }
  double rs, cs;
  if (!number_field(env, o, "rowStride", what, rs) || !number_field(env, o, "colStride", what, cs)) return false;
  if (!(rs >= 0) || rs != static_cast<double>(static_cast<int64_t>(rs)) || rs > std::numeric_limits<int32_t>::max()) {
    throw_type(env, what + ".rowStride must be a non-negative integer below 2^31");
    return false;
  }
  if (cs != 0 && cs != 1) {
    throw_type(env, what + ".colStride must be 0 or 1");
    return false;
  }
  Napi::Float32Array arr = data.As<Napi::Float32Array>();
  out.data = arr.Data();
  out.row_stride = static_cast<int64_t>(rs);
  out.col_stride = static_cast<int64_t>(cs);
  const int64_t extent = (m - 1) * out.row_stride + (n - 1) * out.col_stride + 1;
  if (!offsets_arg(env, o.Get("offsets"), what + ".offsets", arr.ElementLength(), extent, offsets)) return false;
  if (offsets.size() != batch) {
    throw_type(env, what + ".offsets must have one entry per matrix (" + std::to_string(batch) + ")");
    return false;
  }
  return true;
}

bool activation_of(const std::string& name, Activation& out) {
  static const struct {
    const char* name;
    Activation act;
  } names[] = {{"linear", Activation::linear},   {"relu", Activation::relu},         {"relu6", Activation::relu6},
               {"elu", Activation::elu},         {"sigmoid", Activation::sigmoid},   {"leakyrelu", Activation::leakyrelu},
               {"prelu", Activation::prelu}};
  for (const auto& n : names)
    if (name == n.name) {
      out = n.act;
      return true;
    }
  return false;
}

Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  View<float> a, b, out;
  int64_t m, n, k;
  bool trans_a, trans_b;
  if (!f32_arg(info, kFn, 0, a) || !f32_arg(info, kFn, 1, b) || !f32_arg(info, kFn, 2, out) ||
      !dim_arg(info, kFn, 3, m) || !dim_arg(info, kFn, 4, n) || !dim_arg(info, kFn, 5, k) || !bool_arg(info, kFn, 6, trans_a) ||
      !bool_arg(info, kFn, 7, trans_b))
    return env.Undefined();
  std::vector<int64_t> a_off, b_off, bias_off, prelu_off;
  if (info.Length() <= 9) {
    throw_type(env, "arguments 8 and 9 (aOffsets, bOffsets) are required");
    return env.Undefined();
  }
  if (!offsets_arg(env, info[8], "aOffsets", a.size, m * k, a_off) ||
      !offsets_arg(env, info[9], "bOffsets", b.size, k * n, b_off))
    return env.Undefined();
  const size_t batch = a_off.size();
  if (b_off.size() != batch) {
    throw_type(env, "aOffsets and bOffsets must have the same length (one entry per matrix)");
    return env.Undefined();
  }
  if (static_cast<double>(out.size) != static_cast<double>(batch) * static_cast<double>(m) * static_cast<double>(n)) {
    throw_type(env, "out has " + std::to_string(out.size) + " elements, expected batch·m·n = " +
                        std::to_string(batch) + "·" + std::to_string(m) + "·" + std::to_string(n));
    return env.Undefined();
  }
  Epilogue ep;
  if (info.Length() > 10 && !info[10].IsUndefined() && !info[10].IsNull()) {
    if (!info[10].IsObject()) {
      throw_type(env, "argument 10 (epilogue) must be an object");
      return env.Undefined();
    }
    Napi::Object e = info[10].As<Napi::Object>();
    Napi::Value act = e.Get("activation");
    if (!act.IsUndefined()) {
      if (!act.IsString() || !activation_of(act.As<Napi::String>().Utf8Value(), ep.activation)) {
        throw_type(env, "epilogue.activation must be one of linear, relu, relu6, elu, sigmoid, leakyrelu, prelu");
        return env.Undefined();
      }
    }
    Napi::Value alpha = e.Get("alpha");
    if (!alpha.IsUndefined()) {
      if (!alpha.IsNumber()) {
        throw_type(env, "epilogue.alpha must be a number");
        return env.Undefined();
      }
      ep.alpha = alpha.As<Napi::Number>().FloatValue();
    }
    if (m > 0 && n > 0) {
      if (!broadcast_field(env, e, "bias", m, n, batch, ep.bias, bias_off) ||
          !broadcast_field(env, e, "prelu", m, n, batch, ep.prelu, prelu_off))
        return env.Undefined();
      if (ep.activation == Activation::prelu && !ep.prelu.data) {
        throw_type(env, "epilogue.prelu (the slopes) is required when activation is prelu");
        return env.Undefined();
      }
    }
  }
  GemmShape shape;
  shape.m = m;
  shape.n = n;
  shape.k = k;
  shape.trans_a = trans_a;
  shape.trans_b = trans_b;
  BatchOffsets offsets;
  offsets.a = a_off.data();
  offsets.b = b_off.data();
  offsets.bias = bias_off.empty() ? nullptr : bias_off.data();
  offsets.prelu = prelu_off.empty() ? nullptr : prelu_off.data();
  if (!sgemm_batched(shape, static_cast<int64_t>(batch), a.data, b.data, out.data, ep, offsets)) {
    Napi::RangeError::New(env, std::string(kFn) + ": out of memory for packing buffers").ThrowAsJavaScriptException();
  }
  return env.Undefined();
}
MOELAB_EXPORT("matmul", Matmul);

Napi::Value MatmulKernel(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), sgemm_kernel_name()); }
MOELAB_EXPORT("matmulKernel", MatmulKernel);

}  // namespace
}  // namespace moelab
