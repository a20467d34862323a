// Unary float32 ops (Exp, Expm1, Log, Relu, Relu6, LeakyRelu, Elu, Sigmoid, Tanh, Softplus, Sqrt, Rsqrt, Square,
// Neg, Abs, Reciprocal, Step, Erf), exported as elementwiseUnary.
// Accuracy of the vector math (unary_math.h) against float64 (glibc exp/expm1/log/log1p/tanh/erf), measured over
// 138.5 million float32 inputs evenly spread over all bit patterns (every 31st) plus ±0, ±Inf, NaN, subnormals and the
// overflow edges (avx2 gives the same bits as avx512):
//   exp 1.06 ulp, expm1 1.58, log 0.82, log1p on [0, 1] (inside softplus) 2.44, tanh 2.49, sigmoid 2.32, erf 2.44;
//   at most 1.8e-7 relative wherever the result is a normal float. The scalar path rounds its multiply-adds twice:
//   up to 3 ulp from the vector bits at some inputs, within 2.53 ulp of float64 (erf; 1.71 expm1, 2.49 tanh). test/native/elementwise.test.ts re-measures a
//   million of those inputs. Special values as IEEE and tfjs cpu: exp(-Inf) = 0, exp overflow = +Inf, log(±0) = -Inf,
//   log(x < 0) = NaN, sqrt(x < 0) = NaN, NaN in gives NaN out. tfjs cpu's own Erf (Abramowitz–Stegun 7.1.26) is off
//   by up to 1.5e-7 absolute, so Erf agrees with cpu to that and with float64 to 2.5 ulp.
#include <algorithm>

#include "cpu.h"
#include "elementwise.h"
#include "elementwise_simd.h"
#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

using UnaryLoop = void (*)(const float* x, float* y, size_t n, float alpha);

#define MOELAB_KERNELS "unary_kernels.h"
#include "per_isa.h"

UnaryLoop loop_for(UnaryOp op) {
  switch (best_isa()) {
    case Isa::avx512: return isa_avx512::unary_loop_for(op);
    case Isa::avx2: return isa_avx2::unary_loop_for(op);
    default: return isa_scalar::unary_loop_for(op);
  }
}

// Elements per thread: an op runs on the pool only from two grains on. Waking the pool costs ~5-10 us (more on a
// busy machine), so memory-bound ops need more work to pay for it than the transcendental ones (measured: a 64K
// exp takes 17 us on one thread, a 64K relu 9 us).
size_t parallel_grain(UnaryOp op) {
  switch (op) {
    case UnaryOp::relu: case UnaryOp::relu6: case UnaryOp::leaky_relu: case UnaryOp::square: case UnaryOp::neg:
    case UnaryOp::abs: case UnaryOp::step:
      return 1 << 17;
    case UnaryOp::sqrt: case UnaryOp::rsqrt: case UnaryOp::reciprocal:
      return 1 << 16;
    default:
      return 1 << 15;
  }
}

constexpr size_t kBlock = 16;  // chunks start on 64-byte boundaries of the output

}  // namespace

void unary(UnaryOp op, const float* x, float* y, size_t n, float alpha) {
  if (n == 0) return;
  const UnaryLoop loop = loop_for(op);
  const size_t blocks = (n + kBlock - 1) / kBlock;
  parallel_for(blocks, parallel_grain(op) / kBlock, [&](size_t begin, size_t end) {
    const size_t from = begin * kBlock, to = std::min(end * kBlock, n);
    loop(x + from, y + from, to - from, alpha);
  });
}

namespace {

// elementwiseUnary(op, x: Float32Array, out: Float32Array, alpha: number): out = op(x).
Napi::Value ElementwiseUnary(const Napi::CallbackInfo& info) {
  const char* fn = "elementwiseUnary";
  Napi::Env env = info.Env();
  int64_t op = 0;
  View<float> x, out;
  if (!int_arg(info, fn, 0, op) || !f32_arg(info, fn, 1, x) || !f32_arg(info, fn, 2, out)) return env.Undefined();
  if (op >= kUnaryOpCount) {
    throw_arg(info, fn, 0, "a unary op code below " + std::to_string(kUnaryOpCount));
    return env.Undefined();
  }
  if (out.size != x.size) {
    throw_arg(info, fn, 2, "a Float32Array of " + std::to_string(x.size) + " elements (like x)");
    return env.Undefined();
  }
  if (info.Length() <= 3 || !info[3].IsNumber()) {
    throw_arg(info, fn, 3, "a number (alpha)");
    return env.Undefined();
  }
  const float alpha = static_cast<float>(info[3].As<Napi::Number>().DoubleValue());
  unary(static_cast<UnaryOp>(op), x.data, out.data, x.size, alpha);
  return env.Undefined();
}
MOELAB_EXPORT("elementwiseUnary", ElementwiseUnary);

}  // namespace
}  // namespace moelab
