// Fused Adam/AdamW step for one float32 parameter: reads param, grad, m, v and writes the new m, v and param in one
// pass, rounding every operation to float32 in the order tfjs's AdamOptimizer evaluates its ops (no fused
// multiply-adds), so results equal tf.train.adam on the cpu backend bit for bit:
//   m' = m·β1 + g·(1−β1);  v' = v·β2 + g²·(1−β2);  p' = (m'/c1) / (√(v'/c2) + ε) · (−lr) + p·d
// with c1 = 1 − β1^t, c2 = 1 − β2^t and the decoupled weight-decay factor d = 1 − lr·λ (AdamW, torch.optim.AdamW's
// order: decay first, then the Adam step; d = 1 is plain Adam, exactly, since p·1 = p), computed by the caller. The scalar loop is kept out of the vector functions
// (noinline) so the compiler cannot contract it into FMAs there; the AVX2 path is compiled without FMA. Reference: tfjs-core optimizers/adam_optimizer.js.
// GCC 12 warns falsely inside its own _mm512_sqrt_ps (an intentionally self-initialised undefined vector).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstddef>

#include "cpu.h"
#include "pool.h"
#include "registry.h"
#include "tensor.h"

namespace moelab {
namespace {

constexpr size_t kParallelElements = 1 << 16;  // smaller parameters run on the caller
constexpr size_t kTaskElements = 1 << 14;

// The step's float32 constants: β1, 1−β1, β2, 1−β2, c1, c2, ε, −lr, d.
struct AdamConsts {
  float b1, omb1, b2, omb2, c1, c2, eps, neg_lr, decay;
};
constexpr size_t kConsts = 9;

struct AdamArrays {
  const float *p, *g, *m, *v;
  float *p_out, *m_out, *v_out;
};

__attribute__((noinline)) void step_scalar(const AdamArrays& a, const AdamConsts& k, size_t begin, size_t end) {
  for (size_t i = begin; i < end; i++) {
    const float g = a.g[i];
    const float m1 = a.m[i] * k.b1 + g * k.omb1;
    const float gg = g * g;
    const float v1 = a.v[i] * k.b2 + gg * k.omb2;
    const float mh = m1 / k.c1;
    const float vh = v1 / k.c2;
    const float den = std::sqrt(vh) + k.eps;
    const float upd = (mh / den) * k.neg_lr;
    a.m_out[i] = m1;
    a.v_out[i] = v1;
    a.p_out[i] = upd + a.p[i] * k.decay;
  }
}

// AVX-512F implies FMA, and GCC contracts a*b+c written with _mm512_mul_ps/_mm512_add_ps (plain vector arithmetic
// underneath) into one fused op; the explicit-rounding forms are opaque builtins it leaves alone.
__attribute__((target("avx512f"))) inline __m512 mul(__m512 a, __m512 b) {
  return _mm512_mul_round_ps(a, b, _MM_FROUND_CUR_DIRECTION);
}
__attribute__((target("avx512f"))) inline __m512 add(__m512 a, __m512 b) {
  return _mm512_add_round_ps(a, b, _MM_FROUND_CUR_DIRECTION);
}

__attribute__((target("avx512f"))) void step_avx512(const AdamArrays& a, const AdamConsts& k, size_t begin,
                                                    size_t end) {
  const __m512 b1 = _mm512_set1_ps(k.b1), omb1 = _mm512_set1_ps(k.omb1), b2 = _mm512_set1_ps(k.b2),
               omb2 = _mm512_set1_ps(k.omb2), c1 = _mm512_set1_ps(k.c1), c2 = _mm512_set1_ps(k.c2),
               eps = _mm512_set1_ps(k.eps), neg_lr = _mm512_set1_ps(k.neg_lr), decay = _mm512_set1_ps(k.decay);
  size_t i = begin;
  for (; i + 16 <= end; i += 16) {
    const __m512 g = _mm512_loadu_ps(a.g + i);
    const __m512 m1 = add(mul(_mm512_loadu_ps(a.m + i), b1), mul(g, omb1));
    const __m512 v1 =
        add(mul(_mm512_loadu_ps(a.v + i), b2), mul(mul(g, g), omb2));
    const __m512 den = add(_mm512_sqrt_ps(_mm512_div_ps(v1, c2)), eps);
    const __m512 upd = mul(_mm512_div_ps(_mm512_div_ps(m1, c1), den), neg_lr);
    _mm512_storeu_ps(a.m_out + i, m1);
    _mm512_storeu_ps(a.v_out + i, v1);
    _mm512_storeu_ps(a.p_out + i, add(upd, mul(_mm512_loadu_ps(a.p + i), decay)));
  }
  step_scalar(a, k, i, end);
}

__attribute__((target("avx2"))) void step_avx2(const AdamArrays& a, const AdamConsts& k, size_t begin, size_t end) {
  const __m256 b1 = _mm256_set1_ps(k.b1), omb1 = _mm256_set1_ps(k.omb1), b2 = _mm256_set1_ps(k.b2),
               omb2 = _mm256_set1_ps(k.omb2), c1 = _mm256_set1_ps(k.c1), c2 = _mm256_set1_ps(k.c2),
               eps = _mm256_set1_ps(k.eps), neg_lr = _mm256_set1_ps(k.neg_lr), decay = _mm256_set1_ps(k.decay);
  size_t i = begin;
  for (; i + 8 <= end; i += 8) {
    const __m256 g = _mm256_loadu_ps(a.g + i);
    const __m256 m1 = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(a.m + i), b1), _mm256_mul_ps(g, omb1));
    const __m256 v1 =
        _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(a.v + i), b2), _mm256_mul_ps(_mm256_mul_ps(g, g), omb2));
    const __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_div_ps(v1, c2)), eps);
    const __m256 upd = _mm256_mul_ps(_mm256_div_ps(_mm256_div_ps(m1, c1), den), neg_lr);
    _mm256_storeu_ps(a.m_out + i, m1);
    _mm256_storeu_ps(a.v_out + i, v1);
    _mm256_storeu_ps(a.p_out + i, _mm256_add_ps(upd, _mm256_mul_ps(_mm256_loadu_ps(a.p + i), decay)));
  }
  step_scalar(a, k, i, end);
}

// adamStep(param, grad, m, v, paramOut, mOut, vOut, [β1, 1−β1, β2, 1−β2, c1, c2, ε, −lr, d]: Float32Array)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  const char* fn = "adamStep";
  View<float> p, g, m, v, p_out, m_out, v_out, c;
  if (!f32_arg(info, fn, 0, p) || !f32_arg(info, fn, 1, g) || !f32_arg(info, fn, 2, m) || !f32_arg(info, fn, 3, v) ||
      !f32_arg(info, fn, 4, p_out) || !f32_arg(info, fn, 5, m_out) || !f32_arg(info, fn, 6, v_out) ||
      !f32_arg(info, fn, 7, c)) {
    return info.Env().Undefined();
  }
  const size_t n = p.size;
  if (g.size != n || m.size != n || v.size != n || p_out.size != n || m_out.size != n || v_out.size != n) {
    Napi::RangeError::New(info.Env(), "adamStep: param, grad, m, v and the three outputs must have the same length")
        .ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  if (c.size != kConsts) {
    throw_arg(info, fn, 7, "a Float32Array of the 9 step constants");
    return info.Env().Undefined();
  }
  const AdamConsts k{c.data[0], c.data[1], c.data[2], c.data[3], c.data[4], c.data[5], c.data[6], c.data[7], c.data[8]};
  const AdamArrays a{p.data, g.data, m.data, v.data, p_out.data, m_out.data, v_out.data};
  const Isa isa = best_isa();
  auto body = [&](size_t begin, size_t end) {
    if (isa == Isa::avx512) {
      step_avx512(a, k, begin, end);
    } else if (isa == Isa::avx2) {
      step_avx2(a, k, begin, end);
    } else {
      step_scalar(a, k, begin, end);
    }
  };
  if (n < kParallelElements) {
    body(0, n);
  } else {
    parallel_for(n, kTaskElements, body);
  }
  return info.Env().Undefined();
}

}  // namespace

MOELAB_EXPORT("adamStep", AdamStep);

}  // namespace moelab
