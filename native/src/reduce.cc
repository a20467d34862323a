// Sum, Mean, Max and ArgMax of a float32 tensor over any set of axes, without transposing. The axes are coalesced into
// alternating runs of kept and reduced dimensions. When the innermost run is reduced, each output folds contiguous
// rows (vector loops); otherwise each output row accumulates whole input rows, column-wise. Work is split over
// outputs, or over the reduction itself when there are fewer outputs than threads. Sums accumulate in double, like
// tfjs cpu's JavaScript accumulator, so a float32 sum is the double sum rounded once. NaN rules follow tfjs cpu.
// Reference: tfjs-backend-cpu kernels Sum, Max (Max_impl), Mean, ArgMax.
#include <algorithm>
#include <vector>

#include "layout.h"
#include "pool.h"
#include "reduce_simd.h"
#include "registry.h"

namespace moelab {
namespace {

// Accumulators a task keeps at a time: columns of an output row, or outputs in row mode (double: 8 KiB, in L1).
constexpr int64_t kColumnChunk = 1024;
// Below this many elements a task is not worth handing to another thread.
constexpr int64_t kTaskElements = 1 << 14;

// The reduction of one input, coalesced: `rows` when the innermost run is reduced (each output folds contiguous rows
// of `inner` elements), else each output row of `inner` columns accumulates input rows. `kept` and `folded` are the
// kept and reduced runs outside the innermost one.
struct ReducePlan {
  bool rows = false;
  int64_t inner = 1;
  std::vector<Run> kept, folded;
  int64_t kept_count = 1, folded_count = 1;
  // Column mode: columns per task and tasks per output row.
  int64_t chunk = 1, chunks = 1;
};

ReducePlan plan_reduction(const std::vector<int64_t>& shape, const std::vector<bool>& reduced, int threads) {
  std::vector<std::pair<int64_t, bool>> runs;  // (size, reduced), size-1 dimensions dropped, equal neighbours merged
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] == 1) continue;
    if (!runs.empty() && runs.back().second == reduced[d]) {
      runs.back().first *= shape[d];
    } else {
      runs.push_back({shape[d], reduced[d]});
    }
  }
  if (runs.empty()) runs.push_back({1, false});
  ReducePlan p;
  p.rows = runs.back().second;
  p.inner = runs.back().first;
  int64_t stride = p.inner;
  for (size_t i = runs.size() - 1; i-- > 0;) {
    std::vector<Run>& into = runs[i].second ? p.folded : p.kept;
    into.insert(into.begin(), Run{runs[i].first, stride});
    stride *= runs[i].first;
  }
  for (const Run& r : p.kept) p.kept_count *= r.size;
  for (const Run& r : p.folded) p.folded_count *= r.size;
  if (!p.rows) {
    p.chunk = std::min(p.inner, kColumnChunk);
    p.chunks = (p.inner + p.chunk - 1) / p.chunk;
    if (p.kept_count * p.chunks < threads && p.inner >= 128) {  // narrower column tasks so every thread gets one
      const int64_t want = std::min<int64_t>(threads, p.inner / 64);
      p.chunk = ((p.inner + want - 1) / want + 15) / 16 * 16;
      p.chunks = (p.inner + p.chunk - 1) / p.chunk;
    }
  }
  return p;
}

struct ReduceCall {
  const float* x;
  float* out;
  const ReducePlan& plan;
  double divisor;  // Mean divides the sum by the reduced size; 1 otherwise
};

template <int W>
struct SumOp {
  using Acc = double;
  static Acc init() { return 0; }
  MOELAB_INLINE static Acc row(const float* x, size_t n) { return simd::sum_row<W>(x, n); }
  MOELAB_INLINE static void cols(Acc* acc, const float* x, size_t n) { simd::sum_cols<W>(acc, x, n); }
  static Acc combine(Acc a, Acc b) { return a + b; }
  MOELAB_INLINE static void finish(float* out, const Acc* acc, size_t n, double divisor) {
    simd::store_sums<W>(out, acc, n, divisor);
  }
};

template <int W>
struct MaxOp {
  using Acc = float;
  static Acc init() { return -simd::kInf; }
  MOELAB_INLINE static Acc row(const float* x, size_t n) { return simd::max_row<W>(x, n); }
  MOELAB_INLINE static void cols(Acc* acc, const float* x, size_t n) { simd::max_cols<W>(acc, x, n); }
  static Acc combine(Acc a, Acc b) { return a != a || b != b ? a + b : std::max(a, b); }  // NaN wins
  MOELAB_INLINE static void finish(float* out, const Acc* acc, size_t n, double) {
    std::copy(acc, acc + n, out);
  }
};

// Units [begin, end), each reduced completely: outputs in row mode, (output row, column chunk) pairs in column mode.
template <class Op>
MOELAB_INLINE void reduce_units(const ReduceCall& c, size_t begin, size_t end) {
  typename Op::Acc acc[kColumnChunk];
  const ReducePlan& p = c.plan;
  if (p.rows) {
    Walker k(p.kept, begin);
    for (size_t b0 = begin; b0 < end; b0 += kColumnChunk) {  // outputs in blocks of kColumnChunk accumulators
      const size_t b1 = std::min<size_t>(end, b0 + kColumnChunk);
      for (size_t o = b0; o < b1; o++, k.next()) {
        acc[o - b0] = Op::init();
        Walker f(p.folded, 0);
        for (int64_t r = 0; r < p.folded_count; r++, f.next()) {
          acc[o - b0] = Op::combine(acc[o - b0], Op::row(c.x + k.offset() + f.offset(), p.inner));
        }
      }
      Op::finish(c.out + b0, acc, b1 - b0, c.divisor);
    }
    return;
  }
  for (size_t u = begin; u < end; u++) {
    const int64_t o = u / p.chunks, j0 = (u % p.chunks) * p.chunk, w = std::min(p.chunk, p.inner - j0);
    std::fill(acc, acc + w, Op::init());
    const float* base = c.x + Walker(p.kept, o).offset() + j0;
    Walker f(p.folded, 0);
    for (int64_t r = 0; r < p.folded_count; r++, f.next()) Op::cols(acc, base + f.offset(), w);
    Op::finish(c.out + o * p.inner + j0, acc, w, c.divisor);
  }
}

// Part `part` of `parts` of the reduction of unit `u` into `partial` (one value in row mode, the unit's columns in
// column mode): a piece of the flat reduced range (folded index × inner + position) in row mode, else of folded rows.
template <class Op>
MOELAB_INLINE void reduce_part(const ReduceCall& c, size_t u, size_t part, size_t parts, typename Op::Acc* partial) {
  const ReducePlan& p = c.plan;
  if (p.rows) {
    const int64_t total = p.folded_count * p.inner;
    int64_t f = total * part / parts;
    const int64_t f1 = total * (part + 1) / parts;
    const float* base = c.x + Walker(p.kept, u).offset();
    typename Op::Acc a = Op::init();
    for (Walker w(p.folded, f / p.inner); f < f1; w.next()) {
      const int64_t j = f % p.inner, len = std::min(p.inner - j, f1 - f);
      a = Op::combine(a, Op::row(base + w.offset() + j, len));
      f += len;
    }
    *partial = a;
    return;
  }
  const int64_t o = u / p.chunks, j0 = (u % p.chunks) * p.chunk, width = std::min(p.chunk, p.inner - j0);
  const int64_t r0 = p.folded_count * part / parts, r1 = p.folded_count * (part + 1) / parts;
  std::fill(partial, partial + width, Op::init());
  const float* base = c.x + Walker(p.kept, o).offset() + j0;
  Walker f(p.folded, r0);
  for (int64_t r = r0; r < r1; r++, f.next()) Op::cols(partial, base + f.offset(), width);
}

template <int W>
MOELAB_INLINE void sum_units_impl(const ReduceCall& c, size_t begin, size_t end) {
  reduce_units<SumOp<W>>(c, begin, end);
}
template <int W>
MOELAB_INLINE void max_units_impl(const ReduceCall& c, size_t begin, size_t end) {
  reduce_units<MaxOp<W>>(c, begin, end);
}
template <int W>
MOELAB_INLINE void sum_part_impl(const ReduceCall& c, size_t u, size_t part, size_t parts, double* partial) {
  reduce_part<SumOp<W>>(c, u, part, parts, partial);
}
template <int W>
MOELAB_INLINE void max_part_impl(const ReduceCall& c, size_t u, size_t part, size_t parts, float* partial) {
  reduce_part<MaxOp<W>>(c, u, part, parts, partial);
}
MOELAB_SIMD_VARIANTS(void, sum_units, (const ReduceCall& c, size_t begin, size_t end), (c, begin, end))
MOELAB_SIMD_VARIANTS(void, max_units, (const ReduceCall& c, size_t begin, size_t end), (c, begin, end))
MOELAB_SIMD_VARIANTS(void, sum_part, (const ReduceCall& c, size_t u, size_t part, size_t parts, double* partial),
                     (c, u, part, parts, partial))
MOELAB_SIMD_VARIANTS(void, max_part, (const ReduceCall& c, size_t u, size_t part, size_t parts, float* partial),
                     (c, u, part, parts, partial))

// Runs a reduction: parallel over units, or, with fewer units than threads and enough work, each unit split over the
// threads into partials combined in order.
template <class Op>
void run_reduction(const ReduceCall& c, void (*units)(const ReduceCall&, size_t, size_t),
                   void (*part)(const ReduceCall&, size_t, size_t, size_t, typename Op::Acc*)) {
  using Acc = typename Op::Acc;
  const ReducePlan& p = c.plan;
  const int64_t n_units = p.rows ? p.kept_count : p.kept_count * p.chunks;
  const int64_t per_unit = p.folded_count * (p.rows ? p.inner : p.chunk);
  const int64_t threads = pool().size();
  if (n_units >= threads || n_units * per_unit < 4 * kTaskElements) {
    const size_t grain = static_cast<size_t>(std::max<int64_t>(1, kTaskElements / std::max<int64_t>(per_unit, 1)));
    parallel_for(n_units, grain, [&](size_t b, size_t e) { units(c, b, e); });
    return;
  }
  const int64_t width = p.rows ? 1 : p.chunk;
  std::vector<Acc> partials(threads * width);
  for (int64_t u = 0; u < n_units; u++) {
    pool().run(threads, [&](size_t t) { part(c, u, t, threads, partials.data() + t * width); });
    const int64_t o = p.rows ? u : u / p.chunks, j0 = p.rows ? 0 : (u % p.chunks) * p.chunk;
    const int64_t w = p.rows ? 1 : std::min(p.chunk, p.inner - j0);
    for (int64_t t = 1; t < threads; t++) {
      for (int64_t j = 0; j < w; j++) partials[j] = Op::combine(partials[j], partials[t * width + j]);
    }
    Op::finish(c.out + (p.rows ? o : o * p.inner + j0), partials.data(), w, c.divisor);
  }
}

// Reads (x, shape, axes, ..., out) and checks that x matches the shape and out the reduced shape.
bool reduce_args(const Napi::CallbackInfo& info, const char* fn, size_t out_index, View<float>& x,
                 std::vector<int64_t>& shape, std::vector<bool>& reduced, View<float>& out) {
  std::vector<int64_t> axes;
  if (!f32_arg(info, fn, 0, x) || !dims_arg(info, fn, 1, shape) || !dims_arg(info, fn, 2, axes) ||
      !f32_arg(info, fn, out_index, out)) {
    return false;
  }
  if (!require(info, static_cast<int64_t>(x.size) == product(shape), fn, "x does not have the size of shape")) {
    return false;
  }
  reduced.assign(shape.size(), false);
  int64_t out_size = 1;
  for (int64_t a : axes) {
    if (!require(info, a < static_cast<int64_t>(shape.size()), fn, "axis out of range")) return false;
    reduced[a] = true;
  }
  for (size_t d = 0; d < shape.size(); d++) out_size *= reduced[d] ? 1 : shape[d];
  return require(info, static_cast<int64_t>(out.size) == out_size, fn, "out does not have the reduced size");
}

// reduceSum(x: Float32Array, shape: number[], axes: number[], divisor: number, out: Float32Array): out = Σ x / divisor
// over `axes` (Sum: divisor 1; Mean: the reduced size). An empty reduction gives 0, Mean included (as tfjs cpu).
Napi::Value ReduceSum(const Napi::CallbackInfo& info) {
  View<float> x, out;
  std::vector<int64_t> shape;
  std::vector<bool> reduced;
  if (!reduce_args(info, "reduceSum", 4, x, shape, reduced, out)) return info.Env().Undefined();
  if (info.Length() < 4 || !info[3].IsNumber()) {
    throw_arg(info, "reduceSum", 3, "a number");
    return info.Env().Undefined();
  }
  const double divisor = info[3].As<Napi::Number>().DoubleValue();
  if (x.size == 0) {
    std::fill(out.data, out.data + out.size, 0.f);
    return info.Env().Undefined();
  }
  const ReducePlan plan = plan_reduction(shape, reduced, pool().size());
  run_reduction<SumOp<4>>({x.data, out.data, plan, divisor}, sum_units_for_isa(), sum_part_for_isa());
  return info.Env().Undefined();
}
MOELAB_EXPORT("reduceSum", ReduceSum);

// reduceMax(x: Float32Array, shape: number[], axes: number[], out: Float32Array): out = max of x over `axes`; NaN if
// the reduced elements include a NaN; NaN for an empty reduction (tfjs cpu reads past the end there).
Napi::Value ReduceMax(const Napi::CallbackInfo& info) {
  View<float> x, out;
  std::vector<int64_t> shape;
  std::vector<bool> reduced;
  if (!reduce_args(info, "reduceMax", 3, x, shape, reduced, out)) return info.Env().Undefined();
  if (x.size == 0) {
    std::fill(out.data, out.data + out.size, std::numeric_limits<float>::quiet_NaN());
    return info.Env().Undefined();
  }
  const ReducePlan plan = plan_reduction(shape, reduced, pool().size());
  run_reduction<MaxOp<4>>({x.data, out.data, plan, 1}, max_units_for_isa(), max_part_for_isa());
  return info.Env().Undefined();
}
MOELAB_EXPORT("reduceMax", ReduceMax);

// The index of the maximum of x[0..n), tfjs cpu's rule: the first index of the largest non-NaN element, 0 when x[0]
// is NaN (NaN is never greater) or when nothing exceeds x[0].
template <int W>
MOELAB_INLINE int32_t argmax_row(const float* x, size_t n) {
  using f32 = typename simd::V<W>::f32;
  using i32 = typename simd::V<W>::i32;
  if (n == 0 || x[0] != x[0]) return 0;
  f32 best = simd::splat<W>(-simd::kInf);
  i32 at = i32{} - 1, lane{};
  for (int k = 0; k < W; k++) lane[k] = k;
  size_t i = 0;
  for (; i + W <= n; i += W) {  // per lane: the first index of that lane's largest non-NaN value (-1: none above -Inf)
    const f32 v = simd::load<W>(x + i);
    const i32 gt = v > best;
    best = gt ? v : best;
    at = gt ? lane + static_cast<int32_t>(i) : at;
  }
  float m = x[0];
  int32_t arg = 0;
  for (int k = 0; k < W; k++) {
    if (at[k] >= 0 && (best[k] > m || (best[k] == m && at[k] < arg))) {
      m = best[k];
      arg = at[k];
    }
  }
  for (; i < n; i++) {
    if (x[i] > m) {
      m = x[i];
      arg = static_cast<int32_t>(i);
    }
  }
  return arg;
}

struct ArgMaxCall {
  const float* x;
  int32_t* out;
  int64_t outer, size, inner, chunk, chunks;  // x viewed as [outer, size, inner]; column tasks of `chunk` columns
};

// Outputs [begin, end) when inner == 1, else (outer row, column chunk) units: each column keeps its running best
// and index, replaced only by a strictly greater value (so ties keep the first index, NaN never wins after row 0).
template <int W>
MOELAB_INLINE void argmax_units_impl(const ArgMaxCall& c, size_t begin, size_t end) {
  using f32 = typename simd::V<W>::f32;
  using i32 = typename simd::V<W>::i32;
  if (c.inner == 1) {
    for (size_t o = begin; o < end; o++) c.out[o] = argmax_row<W>(c.x + o * c.size, c.size);
    return;
  }
  float best[kColumnChunk];
  for (size_t u = begin; u < end; u++) {
    const int64_t o = u / c.chunks, j0 = (u % c.chunks) * c.chunk, w = std::min(c.chunk, c.inner - j0);
    const float* x = c.x + o * c.size * c.inner + j0;
    int32_t* at = c.out + o * c.inner + j0;
    std::copy(x, x + w, best);
    std::fill(at, at + w, 0);
    for (int64_t r = 1; r < c.size; r++) {
      const float* row = x + r * c.inner;
      int64_t j = 0;
      for (; j + W <= w; j += W) {
        const f32 v = simd::load<W>(row + j), b = simd::load<W>(best + j);
        const i32 gt = v > b;
        simd::store<W>(best + j, gt ? v : b);
        i32 a;
        std::memcpy(&a, at + j, sizeof a);
        a = gt ? i32{} + static_cast<int32_t>(r) : a;
        std::memcpy(at + j, &a, sizeof a);
      }
      for (; j < w; j++) {
        if (row[j] > best[j]) {
          best[j] = row[j];
          at[j] = static_cast<int32_t>(r);
        }
      }
    }
  }
}
MOELAB_SIMD_VARIANTS(void, argmax_units, (const ArgMaxCall& c, size_t begin, size_t end), (c, begin, end))

// argMax(x: Float32Array, shape: number[], axis: number, out: Int32Array): out = the index of the maximum along
// `axis` (tfjs cpu's tie and NaN rules, see argmax_row); 0 where the axis is empty.
Napi::Value ArgMax(const Napi::CallbackInfo& info) {
  const char* fn = "argMax";
  View<float> x;
  View<int32_t> out;
  std::vector<int64_t> shape;
  int64_t axis;
  if (!f32_arg(info, fn, 0, x) || !dims_arg(info, fn, 1, shape) || !int_arg(info, fn, 2, axis) ||
      !i32_arg(info, fn, 3, out)) {
    return info.Env().Undefined();
  }
  if (!require(info, static_cast<int64_t>(x.size) == product(shape), fn, "x does not have the size of shape") ||
      !require(info, axis < static_cast<int64_t>(shape.size()), fn, "axis out of range") ||
      !require(info, static_cast<int64_t>(out.size) * shape[axis] == static_cast<int64_t>(x.size) || shape[axis] == 0,
               fn, "out does not have the reduced size") ||
      !require(info, shape[axis] <= INT32_MAX, fn, "the axis is longer than an int32 index")) {
    return info.Env().Undefined();
  }
  if (x.size == 0) {
    std::fill(out.data, out.data + out.size, 0);
    return info.Env().Undefined();
  }
  ArgMaxCall c{x.data, out.data, 1, shape[axis], 1, 1, 1};
  for (int64_t d = 0; d < axis; d++) c.outer *= shape[d];
  for (size_t d = axis + 1; d < shape.size(); d++) c.inner *= shape[d];
  if (c.inner > 1) {
    c.chunk = std::min(c.inner, kColumnChunk);
    c.chunks = (c.inner + c.chunk - 1) / c.chunk;
  }
  const int64_t per_unit = c.size * c.chunk;
  const size_t grain = static_cast<size_t>(std::max<int64_t>(1, kTaskElements / per_unit));
  auto units = argmax_units_for_isa();
  parallel_for(c.outer * c.chunks, grain, [&](size_t b, size_t e) { units(c, b, e); });
  return info.Env().Undefined();
}
MOELAB_EXPORT("argMax", ArgMax);

}  // namespace
}  // namespace moelab
