// Fused training ops with their backward passes, one call each instead of a chain of tfjs kernels (and their
// temporaries): GELU/SiLU (fusedActivation, fusedActivationGrad), the SwiGLU gate silu(a)·b (swigluGate, swigluGateGradA,
// swigluGateGradB), RMSNorm (rmsNorm, rmsNormGrad, rmsNormGainGrad), softmax
// cross-entropy with integer targets (crossEntropy, crossEntropyGrad). The math is in fused_kernels.h; lib/ops
// registers these as tfjs kernels of the `native` backend (lib/native/kernels/fused.ts) with the composite tfjs
// versions (lib/ops) as the reference they are tested against.
#include <algorithm>
#include <atomic>
#include <memory>
#include <vector>

#include "cpu.h"
#include "elementwise_simd.h"
#include "layout.h"
#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

#define MOELAB_KERNELS "fused_kernels.h"
#include "per_isa.h"

// Calls the instantiation of `name` for this CPU.
#define MOELAB_ISA_CALL(name, ...)                                                     \
  (best_isa() == Isa::avx512 ? isa_avx512::name(__VA_ARGS__)                           \
   : best_isa() == Isa::avx2 ? isa_avx2::name(__VA_ARGS__)                             \
                             : isa_scalar::name(__VA_ARGS__))

// Activation codes shared with lib/native/kernels/fused.ts (FUSED_ACTIVATIONS).
enum class Act : int64_t { gelu = 0, silu = 1 };
constexpr int64_t kActCount = 2;

// Elements per pool task: transcendental per element, so ~32K elements pay for a wake-up (unary.cc's grain).
constexpr size_t kElementGrain = size_t(1) << 15;

size_t row_grain(size_t width) { return std::max<size_t>(1, kElementGrain / std::max<size_t>(width, 1)); }

bool act_arg(const Napi::CallbackInfo& info, const char* fn, Act& act) {
  int64_t code = 0;
  if (!int_arg(info, fn, 0, code)) return false;
  if (code >= kActCount) {
    throw_arg(info, fn, 0, "an activation code below " + std::to_string(kActCount) + " (0 gelu, 1 silu)");
    return false;
  }
  act = static_cast<Act>(code);
  return true;
}

// fusedActivation(act, x: Float32Array, out: Float32Array): out = act(x).
Napi::Value FusedActivation(const Napi::CallbackInfo& info) {
  const char* fn = "fusedActivation";
  Act act;
  View<float> x, out;
  if (!act_arg(info, fn, act) || !f32_arg(info, fn, 1, x) || !f32_arg(info, fn, 2, out)) return info.Env().Undefined();
  if (!require(info, out.size == x.size, fn, "out must have the size of x")) return info.Env().Undefined();
  parallel_for(x.size, kElementGrain, [&](size_t b, size_t e) {
    MOELAB_ISA_CALL(act_forward, static_cast<int>(act), x.data + b, out.data + b, e - b);
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("fusedActivation", FusedActivation);

// fusedActivationGrad(act, x, dy, dx): dx = dy·act'(x).
Napi::Value FusedActivationGrad(const Napi::CallbackInfo& info) {
  const char* fn = "fusedActivationGrad";
  Act act;
  View<float> x, dy, dx;
  if (!act_arg(info, fn, act) || !f32_arg(info, fn, 1, x) || !f32_arg(info, fn, 2, dy) || !f32_arg(info, fn, 3, dx)) {
    return info.Env().Undefined();
  }
  if (!require(info, dy.size == x.size && dx.size == x.size, fn, "x, dy and dx must have one size")) {
    return info.Env().Undefined();
  }
  parallel_for(x.size, kElementGrain, [&](size_t b, size_t e) {
    MOELAB_ISA_CALL(act_backward, static_cast<int>(act), x.data + b, dy.data + b, dx.data + b, e - b);
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("fusedActivationGrad", FusedActivationGrad);

// Reads `count` same-size Float32Arrays from info[0..count); false after throwing.
bool same_size_f32(const Napi::CallbackInfo& info, const char* fn, View<float>* views, size_t count) {
  for (size_t i = 0; i < count; i++) {
    if (!f32_arg(info, fn, i, views[i])) return false;
  }
  for (size_t i = 1; i < count; i++) {
    if (!require(info, views[i].size == views[0].size, fn, "every array must have the size of the first")) return false;
  }
  return true;
}

// swigluGate(a, b, out): out = silu(a)·b.
Napi::Value SwigluGate(const Napi::CallbackInfo& info) {
  View<float> v[3];
  if (!same_size_f32(info, "swigluGate", v, 3)) return info.Env().Undefined();
  parallel_for(v[0].size, kElementGrain, [&](size_t b, size_t e) { MOELAB_ISA_CALL(swiglu_forward, v[0].data + b, v[1].data + b, v[2].data + b, e - b); });
  return info.Env().Undefined();
}
MOELAB_EXPORT("swigluGate", SwigluGate);

// swigluGateGradA(a, b, dy, da): da = dy·b·silu'(a).
Napi::Value SwigluGateGradA(const Napi::CallbackInfo& info) {
  View<float> v[4];
  if (!same_size_f32(info, "swigluGateGradA", v, 4)) return info.Env().Undefined();
  parallel_for(v[0].size, kElementGrain, [&](size_t b, size_t e) {
    MOELAB_ISA_CALL(swiglu_grad_a, v[0].data + b, v[1].data + b, v[2].data + b, v[3].data + b, e - b);
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("swigluGateGradA", SwigluGateGradA);

// swigluGateGradB(a, dy, db): db = dy·silu(a).
Napi::Value SwigluGateGradB(const Napi::CallbackInfo& info) {
  View<float> v[3];
  if (!same_size_f32(info, "swigluGateGradB", v, 3)) return info.Env().Undefined();
  parallel_for(v[0].size, kElementGrain, [&](size_t b, size_t e) { MOELAB_ISA_CALL(swiglu_grad_b, v[0].data + b, v[1].data + b, v[2].data + b, e - b); });
  return info.Env().Undefined();
}
MOELAB_EXPORT("swigluGateGradB", SwigluGateGradB);

// eps at info[index]: a finite number ≥ 0.
bool eps_arg(const Napi::CallbackInfo& info, const char* fn, size_t index, float& eps) {
  if (info.Length() <= index || !info[index].IsNumber() || !(info[index].As<Napi::Number>().DoubleValue() >= 0)) {
    throw_arg(info, fn, index, "a number ≥ 0 (eps)");
    return false;
  }
  eps = static_cast<float>(info[index].As<Napi::Number>().DoubleValue());
  return true;
}

// rmsNorm(x, gain, out, eps): rows of gain.length; out = x / √(mean(x²) + eps) · gain.
Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  const char* fn = "rmsNorm";
  View<float> x, g, out;
  float eps;
  if (!f32_arg(info, fn, 0, x) || !f32_arg(info, fn, 1, g) || !f32_arg(info, fn, 2, out) || !eps_arg(info, fn, 3, eps)) {
    return info.Env().Undefined();
  }
  const size_t d = g.size;
  if (!require(info, d > 0 && x.size % d == 0 && out.size == x.size, fn, "x and out must be rows of gain.length")) {
    return info.Env().Undefined();
  }
  parallel_for(x.size / d, row_grain(d), [&](size_t b, size_t e) { MOELAB_ISA_CALL(rms_norm_rows, x.data, g.data, out.data, d, eps, b, e); });
  return info.Env().Undefined();
}
MOELAB_EXPORT("rmsNorm", RmsNorm);

// addRmsNorm(x, res, gain, sum, out, eps): sum = x + res, out = rmsNorm(sum)·gain; rows of gain.length.
Napi::Value AddRmsNorm(const Napi::CallbackInfo& info) {
  const char* fn = "addRmsNorm";
  View<float> x, r, g, s, out;
  float eps;
  if (!f32_arg(info, fn, 0, x) || !f32_arg(info, fn, 1, r) || !f32_arg(info, fn, 2, g) || !f32_arg(info, fn, 3, s) ||
      !f32_arg(info, fn, 4, out) || !eps_arg(info, fn, 5, eps)) {
    return info.Env().Undefined();
  }
  const size_t d = g.size;
  if (!require(info, d > 0 && x.size % d == 0 && r.size == x.size && s.size == x.size && out.size == x.size, fn,
               "x, res, sum and out must be rows of gain.length")) {
    return info.Env().Undefined();
  }
  parallel_for(x.size / d, row_grain(d), [&](size_t b, size_t e) {
    MOELAB_ISA_CALL(add_rms_norm_rows, x.data, r.data, g.data, s.data, out.data, d, eps, b, e);
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("addRmsNorm", AddRmsNorm);

// rmsNormGrad(x, gain, dy, dx, eps): dx of rmsNorm for upstream dy.
Napi::Value RmsNormGrad(const Napi::CallbackInfo& info) {
  const char* fn = "rmsNormGrad";
  View<float> x, g, dy, dx;
  float eps;
  if (!f32_arg(info, fn, 0, x) || !f32_arg(info, fn, 1, g) || !f32_arg(info, fn, 2, dy) || !f32_arg(info, fn, 3, dx) ||
      !eps_arg(info, fn, 4, eps)) {
    return info.Env().Undefined();
  }
  const size_t d = g.size;
  if (!require(info, d > 0 && x.size % d == 0 && dy.size == x.size && dx.size == x.size, fn,
               "x, dy and dx must be rows of gain.length")) {
    return info.Env().Undefined();
  }
  parallel_for(x.size / d, row_grain(d), [&](size_t b, size_t e) {
    MOELAB_ISA_CALL(rms_norm_grad_rows, x.data, g.data, dy.data, dx.data, d, eps, b, e);
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("rmsNormGrad", RmsNormGrad);

// rmsNormGainGrad(x, dy, dgain, eps): the gain's gradient Σ_rows dy·x/√(mean(x²) + eps); rows of dgain.length.
Napi::Value RmsNormGainGrad(const Napi::CallbackInfo& info) {
  const char* fn = "rmsNormGainGrad";
  View<float> x, dy, dg;
  float eps;
  if (!f32_arg(info, fn, 0, x) || !f32_arg(info, fn, 1, dy) || !f32_arg(info, fn, 2, dg) || !eps_arg(info, fn, 3, eps)) {
    return info.Env().Undefined();
  }
  const size_t d = dg.size;
  if (!require(info, d > 0 && x.size % d == 0 && dy.size == x.size, fn, "x and dy must be rows of dgain.length")) {
    return info.Env().Undefined();
  }
  const size_t rows = x.size / d;
  std::vector<float> rstd(rows);
  parallel_for(rows, row_grain(d), [&](size_t b, size_t e) { MOELAB_ISA_CALL(rms_scales, x.data, rstd.data(), d, eps, b, e); });
  // Column blocks of 16 (one cache line of each row) per task.
  constexpr size_t kCols = 16;
  parallel_for((d + kCols - 1) / kCols, std::max<size_t>(1, kElementGrain / std::max<size_t>(rows * kCols, 1)), [&](size_t b, size_t e) {
    MOELAB_ISA_CALL(rms_norm_grad_gain, x.data, dy.data, rstd.data(), dg.data, rows, d, b * kCols, std::min(d, e * kCols));
  });
  return info.Env().Undefined();
}
MOELAB_EXPORT("rmsNormGainGrad", RmsNormGainGrad);

// Targets of `rows` rows, each in [0, v); false after throwing a RangeError naming the first bad one.
bool targets_ok(const Napi::CallbackInfo& info, const char* fn, const View<int32_t>& t, size_t v) {
  for (size_t r = 0; r < t.size; r++) {
    if (t.data[r] < 0 || static_cast<size_t>(t.data[r]) >= v) {
      return require(info, false, fn,
                     "targets[" + std::to_string(r) + "] = " + std::to_string(t.data[r]) + " is outside [0, " + std::to_string(v) + ")");
    }
  }
  return true;
}

// crossEntropy(logits, targets: Int32Array) → Σ over rows of (logsumexp(row) − row[target]); rows = targets.length.
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  const char* fn = "crossEntropy";
  View<float> z;
  View<int32_t> t;
  if (!f32_arg(info, fn, 0, z) || !i32_arg(info, fn, 1, t)) return info.Env().Undefined();
  if (!require(info, t.size > 0 && z.size % t.size == 0 && z.size > 0, fn, "logits must be targets.length non-empty rows")) {
    return info.Env().Undefined();
  }
  const size_t v = z.size / t.size;
  if (!targets_ok(info, fn, t, v)) return info.Env().Undefined();
  const size_t grain = row_grain(v);
  const size_t chunks = (t.size + grain - 1) / grain;
  std::vector<double> partial(chunks, 0.0);
  parallel_for(chunks, 1, [&](size_t b, size_t e) {
    for (size_t c = b; c < e; c++) {
      partial[c] = MOELAB_ISA_CALL(cross_entropy_rows, z.data, t.data, v, c * grain, std::min(t.size, (c + 1) * grain));
    }
  });
  double sum = 0;
  for (double p : partial) sum += p;  // fixed order: the same bits on every run and thread count
  return Napi::Number::New(info.Env(), sum);
}
MOELAB_EXPORT("crossEntropy", CrossEntropy);

// crossEntropyGrad(logits, targets, scale, dlogits): dlogits = (softmax(logits) − onehot(targets))·scale.
Napi::Value CrossEntropyGrad(const Napi::CallbackInfo& info) {
  const char* fn = "crossEntropyGrad";
  View<float> z, dz;
  View<int32_t> t;
  if (!f32_arg(info, fn, 0, z) || !i32_arg(info, fn, 1, t) || !f32_arg(info, fn, 3, dz)) return info.Env().Undefined();
  if (info.Length() <= 2 || !info[2].IsNumber()) {
    throw_arg(info, fn, 2, "a number (scale)");
    return info.Env().Undefined();
  }
  const float scale = static_cast<float>(info[2].As<Napi::Number>().DoubleValue());
  if (!require(info, t.size > 0 && z.size % t.size == 0 && dz.size == z.size, fn, "logits and dlogits must be targets.length rows")) {
    return info.Env().Undefined();
  }
  const size_t v = z.size / t.size;
  if (!targets_ok(info, fn, t, v)) return info.Env().Undefined();
  parallel_for(t.size, row_grain(v), [&](size_t b, size_t e) { MOELAB_ISA_CALL(cross_entropy_grad_rows, z.data, t.data, scale, dz.data, v, b, e); });
  return info.Env().Undefined();
}
MOELAB_EXPORT("crossEntropyGrad", CrossEntropyGrad);

}  // namespace
}  // namespace moelab
