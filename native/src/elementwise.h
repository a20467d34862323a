// Elementwise float32 kernels: broadcasting binary ops (elementwise.cc) and unary ops (unary.cc), vectorised for
// AVX-512 / AVX2 / scalar (picked by best_isa()) and run on the thread pool above a size threshold.
#pragma once
#include <cstddef>
#include <cstdint>

namespace moelab {

// Binary ops; the numbering is shared with lib/native/kernels/elementwise.ts (BINARY_OPS).
enum class BinaryOp : int32_t { add = 0, sub, mul, div, max, min, squared_difference };
constexpr int32_t kBinaryOpCount = 7;

// o[i] = a[i] op b[i] (vv), a[i] op b[0] (vs), a[0] op b[i] (sv), for i < n.
using BinaryLoop = void (*)(const float* a, const float* b, float* o, size_t n);
struct BinaryLoops {
  BinaryLoop vv, vs, sv;
};

// One dimension of a broadcast: the output extent and each input's element stride along it (0 = broadcast).
struct BroadcastDim {
  int64_t size, a_stride, b_stride;
};

// out (dense, row-major over dims, outermost first) = a op b, where the innermost dimension's strides are 0 or 1.
void binary_broadcast(BinaryOp op, const float* a, const float* b, float* out, const BroadcastDim* dims, int rank);

// Unary ops; the numbering is shared with lib/native/kernels/elementwise.ts (UNARY_OPS). alpha is the slope of
// LeakyRelu and the value Step gives for x <= 0; the other ops ignore it.
enum class UnaryOp : int32_t {
  exp = 0, expm1, log, relu, relu6, leaky_relu, elu, sigmoid, tanh, softplus,
  sqrt, rsqrt, square, neg, abs, reciprocal, step, erf
};
constexpr int32_t kUnaryOpCount = 18;

// y[i] = op(x[i]) for i < n (y may equal x).
void unary(UnaryOp op, const float* x, float* y, size_t n, float alpha);

}  // namespace moelab
