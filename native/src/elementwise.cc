// Broadcasting binary float32 ops (numpy/tfjs broadcasting), exported as elementwiseBinary. The TypeScript side
// collapses the shapes into a plan (lib/native/kernels/elementwise.ts broadcastPlan); here each output row of the
// innermost dimension runs one vector loop: a op b, a op scalar, or scalar op b.
#include "elementwise.h"

#include <algorithm>

#include "cpu.h"
#include "elementwise_simd.h"
#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

#define MOELAB_KERNELS "elementwise_kernels.h"
#include "per_isa.h"

BinaryLoops loops_for(BinaryOp op) {
  switch (best_isa()) {
    case Isa::avx512: return isa_avx512::binary_loops(op);
    case Isa::avx2: return isa_avx2::binary_loops(op);
    default: return isa_scalar::binary_loops(op);
  }
}

constexpr int kMaxRank = 32;
// Output elements per thread: a binary op runs on the pool only from two grains on (waking it costs ~5-10 us; a 64K
// add takes 10 us on one thread, a 1M add 450 us).
constexpr size_t kParallelGrain = 1 << 17;
// Chunks handed to threads start on 64-byte boundaries of the output.
constexpr size_t kBlock = 16;

// Output elements [begin, end) of the broadcast.
void run_range(const BinaryLoops& loops, const float* a, const float* b, float* out, const BroadcastDim* dims,
               int rank, size_t begin, size_t end) {
  const BroadcastDim& inner = dims[rank - 1];
  const size_t n = static_cast<size_t>(inner.size);
  const BinaryLoop loop = inner.a_stride && !inner.b_stride ? loops.vs : !inner.a_stride && inner.b_stride ? loops.sv
                                                                                                           : loops.vv;
  int64_t idx[kMaxRank];
  int64_t ao = 0, bo = 0;
  size_t row = begin / n, col = begin % n;
  for (int d = rank - 2; d >= 0; --d) {
    const size_t size = static_cast<size_t>(dims[d].size);
    idx[d] = static_cast<int64_t>(row % size);
    row /= size;
    ao += idx[d] * dims[d].a_stride;
    bo += idx[d] * dims[d].b_stride;
  }
  for (size_t pos = begin; pos < end;) {
    const size_t len = std::min(n - col, end - pos);
    loop(a + ao + static_cast<int64_t>(col) * inner.a_stride, b + bo + static_cast<int64_t>(col) * inner.b_stride,
         out + pos, len);
    pos += len;
    col = 0;
    for (int d = rank - 2; d >= 0; --d) {  // next row: odometer over the outer dimensions
      ao += dims[d].a_stride;
      bo += dims[d].b_stride;
      if (++idx[d] < dims[d].size) break;
      ao -= dims[d].a_stride * dims[d].size;
      bo -= dims[d].b_stride * dims[d].size;
      idx[d] = 0;
    }
  }
}

}  // namespace

void binary_broadcast(BinaryOp op, const float* a, const float* b, float* out, const BroadcastDim* dims, int rank) {
  size_t total = 1;
  for (int d = 0; d < rank; d++) total *= static_cast<size_t>(dims[d].size);
  if (total == 0) return;
  const BinaryLoops loops = loops_for(op);
  const size_t blocks = (total + kBlock - 1) / kBlock;
  parallel_for(blocks, kParallelGrain / kBlock, [&](size_t begin, size_t end) {
    run_range(loops, a, b, out, dims, rank, begin * kBlock, std::min(end * kBlock, total));
  });
}

namespace {

// elementwiseBinary(op, a: Float32Array, b: Float32Array, out: Float32Array, plan: Float64Array): out = a op b.
// plan holds [size, aStride, bStride] per output dimension, outermost first; the innermost strides are 0 or 1.
Napi::Value ElementwiseBinary(const Napi::CallbackInfo& info) {
  const char* fn = "elementwiseBinary";
  Napi::Env env = info.Env();
  int64_t op = 0;
  View<float> a, b, out;
  if (!int_arg(info, fn, 0, op) || !f32_arg(info, fn, 1, a) || !f32_arg(info, fn, 2, b) || !f32_arg(info, fn, 3, out)) {
    return env.Undefined();
  }
  if (op >= kBinaryOpCount) {
    throw_arg(info, fn, 0, "a binary op code below " + std::to_string(kBinaryOpCount));
    return env.Undefined();
  }
  if (info.Length() <= 4 || !info[4].IsTypedArray() ||
      info[4].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw_arg(info, fn, 4, "a Float64Array plan");
    return env.Undefined();
  }
  Napi::Float64Array plan = info[4].As<Napi::Float64Array>();
  const size_t len = plan.ElementLength();
  const int rank = static_cast<int>(len / 3);
  if (len % 3 != 0 || rank < 1 || rank > kMaxRank) {
    throw_arg(info, fn, 4, "a plan of 1 to " + std::to_string(kMaxRank) + " [size, aStride, bStride] triples");
    return env.Undefined();
  }
  BroadcastDim dims[kMaxRank];
  size_t total = 1, a_last = 0, b_last = 0;
  for (int d = 0; d < rank; d++) {
    const double* t = plan.Data() + 3 * d;
    for (int j = 0; j < 3; j++) {
      if (!(t[j] >= 0) || t[j] != static_cast<double>(static_cast<int64_t>(t[j])) || t[j] > 9007199254740992.0) {
        throw_arg(info, fn, 4, "a plan of non-negative integers");
        return env.Undefined();
      }
    }
    dims[d] = {static_cast<int64_t>(t[0]), static_cast<int64_t>(t[1]), static_cast<int64_t>(t[2])};
    total *= static_cast<size_t>(dims[d].size);
    if (dims[d].size > 0) {
      a_last += static_cast<size_t>((dims[d].size - 1) * dims[d].a_stride);
      b_last += static_cast<size_t>((dims[d].size - 1) * dims[d].b_stride);
    }
  }
  if (dims[rank - 1].a_stride > 1 || dims[rank - 1].b_stride > 1) {
    throw_arg(info, fn, 4, "a plan whose innermost strides are 0 or 1");
    return env.Undefined();
  }
  if (total != out.size) {
    throw_arg(info, fn, 3, "a Float32Array of " + std::to_string(total) + " elements (the plan's size)");
    return env.Undefined();
  }
  if (total > 0 && (a_last >= a.size || b_last >= b.size)) {
    throw_arg(info, fn, a_last >= a.size ? 1 : 2, "large enough for the plan's strides");
    return env.Undefined();
  }
  binary_broadcast(static_cast<BinaryOp>(op), a.data, b.data, out.data, dims, rank);
  return env.Undefined();
}
MOELAB_EXPORT("elementwiseBinary", ElementwiseBinary);

}  // namespace
}  // namespace moelab
