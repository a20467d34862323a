// Per-ISA loops of the fused training ops (fused.cc): GELU and SiLU with their derivatives, RMSNorm forward/backward,
// softmax cross-entropy with integer targets. NOT include-guarded on purpose: fused.cc includes it once per ISA
// through per_isa.h (vector primitives of elementwise_simd.h, MOELAB_EW_FN = that ISA's target attribute).
// Formulas: GELU(x) = x·Φ(x), GELU' = Φ(x) + x·φ(x); SiLU(x) = x·σ(x), SiLU' = σ(x)·(1 + x·(1 − σ(x)));
// RMSNorm y = x·r·g, r = 1/√(mean(x²) + eps), dx = r·(dy·g − x̂·mean(dy·g·x̂)), x̂ = x·r, dg = Σ_rows dy·x̂;
// cross-entropy ℓ = lse(z) − z_t, dz = (softmax(z) − onehot(t))·scale.

#include "unary_math.h"

struct FGelu {
  MOELAB_EW_FN static vf f(vf x) { return mul(mul(x, set1(0.5f)), add(set1(1.0f), erf_(mul(x, set1(0x1.6a09e6p-1f))))); }
  MOELAB_EW_FN static vf df(vf x) {
    const vf cdf = mul(set1(0.5f), add(set1(1.0f), erf_(mul(x, set1(0x1.6a09e6p-1f)))));
    const vf pdf = mul(set1(0x1.988454p-2f), exp_(mul(mul(x, x), set1(-0.5f))));  // e^(−x²/2)/√(2π)
    return fma(x, pdf, cdf);
  }
};
struct FSilu {
  MOELAB_EW_FN static vf f(vf x) { return mul(x, sigmoid_(x)); }
  MOELAB_EW_FN static vf df(vf x) {
    const vf s = sigmoid_(x);
    return mul(s, fma(x, sub(set1(1.0f), s), set1(1.0f)));
  }
};

template <class A>
MOELAB_EW_FN void act_forward_loop(const float* x, float* y, size_t n) {
  size_t i = 0;
  for (; i + W <= n; i += W) store(y + i, A::f(load(x + i)));
  if (i < n) storen(y + i, A::f(loadn(x + i, n - i)), n - i);
}

template <class A>
MOELAB_EW_FN void act_backward_loop(const float* x, const float* dy, float* dx, size_t n) {
  size_t i = 0;
  for (; i + W <= n; i += W) store(dx + i, mul(load(dy + i), A::df(load(x + i))));
  if (i < n) storen(dx + i, mul(loadn(dy + i, n - i), A::df(loadn(x + i, n - i))), n - i);
}

// Σ x² over a row of d.
MOELAB_EW_FN inline float sum_squares(const float* x, size_t d) {
  vf acc = set1(0.0f);
  size_t j = 0;
  for (; j + W <= d; j += W) acc = fma(load(x + j), load(x + j), acc);
  if (j < d) {
    const vf v = loadn(x + j, d - j);
    acc = fma(v, v, acc);
  }
  return hsum(acc);
}

MOELAB_EW_FN inline float rms_scale(const float* x, size_t d, float eps) {
  return 1.0f / __builtin_sqrtf(sum_squares(x, d) / static_cast<float>(d) + eps);
}

// Rows [r0, r1) of y = x·r·g.
MOELAB_EW_FN void rms_norm_rows(const float* x, const float* g, float* y, size_t d, float eps, size_t r0, size_t r1) {
  for (size_t r = r0; r < r1; r++) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    const vf s = set1(rms_scale(xr, d, eps));
    size_t j = 0;
    for (; j + W <= d; j += W) store(yr + j, mul(mul(load(xr + j), s), load(g + j)));
    if (j < d) storen(yr + j, mul(mul(loadn(xr + j, d - j), s), loadn(g + j, d - j)), d - j);
  }
}

// Rows [r0, r1) of the residual sum s = x + res and of y = rmsNorm(s)·g (the block's "add, then norm" in one pass).
MOELAB_EW_FN void add_rms_norm_rows(const float* x, const float* res, const float* g, float* s, float* y, size_t d,
                                    float eps, size_t r0, size_t r1) {
  for (size_t r = r0; r < r1; r++) {
    const float* xr = x + r * d;
    const float* rr = res + r * d;
    float* sr = s + r * d;
    size_t j = 0;
    for (; j + W <= d; j += W) store(sr + j, add(load(xr + j), load(rr + j)));
    if (j < d) storen(sr + j, add(loadn(xr + j, d - j), loadn(rr + j, d - j)), d - j);
  }
  rms_norm_rows(s, g, y, d, eps, r0, r1);
}

// Rows [r0, r1) of dx.
MOELAB_EW_FN void rms_norm_grad_rows(const float* x, const float* g, const float* dy, float* dx, size_t d, float eps,
                                     size_t r0, size_t r1) {
  for (size_t r = r0; r < r1; r++) {
    const float* xr = x + r * d;
    const float* dyr = dy + r * d;
    float* dxr = dx + r * d;
    const float rs = rms_scale(xr, d, eps);
    vf acc = set1(0.0f);  // Σ dy·g·x
    size_t j = 0;
    for (; j + W <= d; j += W) acc = fma(mul(load(dyr + j), load(g + j)), load(xr + j), acc);
    if (j < d) acc = fma(mul(loadn(dyr + j, d - j), loadn(g + j, d - j)), loadn(xr + j, d - j), acc);
    // dx = r·dy·g − x·r³·mean(dy·g·x)
    const vf a = set1(rs);
    const vf b = set1(rs * rs * rs * hsum(acc) / static_cast<float>(d));
    for (j = 0; j + W <= d; j += W) store(dxr + j, fnma(load(xr + j), b, mul(a, mul(load(dyr + j), load(g + j)))));
    if (j < d) {
      const size_t n = d - j;
      storen(dxr + j, fnma(loadn(xr + j, n), b, mul(a, mul(loadn(dyr + j, n), loadn(g + j, n)))), n);
    }
  }
}

// rstd[r] = r of rows [r0, r1).
MOELAB_EW_FN void rms_scales(const float* x, float* rstd, size_t d, float eps, size_t r0, size_t r1) {
  for (size_t r = r0; r < r1; r++) rstd[r] = rms_scale(x + r * d, d, eps);
}

// Columns [c0, c1) of dg = Σ_r dy·x·rstd[r] over `rows` rows.
MOELAB_EW_FN void rms_norm_grad_gain(const float* x, const float* dy, const float* rstd, float* dg, size_t rows, size_t d,
                                     size_t c0, size_t c1) {
  for (size_t j = c0; j < c1; j += W) {
    const size_t n = c1 - j < W ? c1 - j : W;
    vf acc = set1(0.0f);
    for (size_t r = 0; r < rows; r++) acc = fma(mul(loadn(dy + r * d + j, n), loadn(x + r * d + j, n)), set1(rstd[r]), acc);
    storen(dg + j, acc, n);
  }
}

// log Σ exp over a row of v.
MOELAB_EW_FN inline float log_sum_exp(const float* z, size_t v) {
  vf m = set1(-__builtin_inff());
  size_t j = 0;
  for (; j + W <= v; j += W) m = vmax(load(z + j), m);
  float mx = hmax(m);
  for (; j < v; j++) mx = z[j] > mx ? z[j] : mx;
  if (!(mx > -__builtin_inff() && mx < __builtin_inff())) return mx;  // ±Inf, NaN
  const vf mv = set1(mx);
  vf acc = set1(0.0f);
  for (j = 0; j + W <= v; j += W) acc = add(acc, exp_(sub(load(z + j), mv)));
  float s = hsum(acc);
  for (; j < v; j++) s += __builtin_expf(z[j] - mx);
  return mx + __builtin_logf(s);
}

// Rows [r0, r1): Σ (lse − z_t) in double.
MOELAB_EW_FN double cross_entropy_rows(const float* z, const int32_t* t, size_t v, size_t r0, size_t r1) {
  double sum = 0;
  for (size_t r = r0; r < r1; r++) sum += static_cast<double>(log_sum_exp(z + r * v, v)) - z[r * v + t[r]];
  return sum;
}

// Rows [r0, r1) of dz = (softmax(z) − onehot(t))·scale.
MOELAB_EW_FN void cross_entropy_grad_rows(const float* z, const int32_t* t, float scale, float* dz, size_t v, size_t r0,
                                          size_t r1) {
  for (size_t r = r0; r < r1; r++) {
    const float* zr = z + r * v;
    float* dr = dz + r * v;
    const vf l = set1(log_sum_exp(zr, v));
    const vf sc = set1(scale);
    size_t j = 0;
    for (; j + W <= v; j += W) store(dr + j, mul(exp_(sub(load(zr + j), l)), sc));
    if (j < v) storen(dr + j, mul(exp_(sub(loadn(zr + j, v - j), l)), sc), v - j);
    dr[t[r]] -= scale;
  }
}

// act: 0 GELU, 1 SiLU (the codes of fused.cc).
MOELAB_EW_FN void act_forward(int act, const float* x, float* y, size_t n) {
  if (act == 0) act_forward_loop<FGelu>(x, y, n);
  else act_forward_loop<FSilu>(x, y, n);
}
MOELAB_EW_FN void act_backward(int act, const float* x, const float* dy, float* dx, size_t n) {
  if (act == 0) act_backward_loop<FGelu>(x, dy, dx, n);
  else act_backward_loop<FSilu>(x, dy, dx, n);
}

// SwiGLU gate y = silu(a)·b and its gradients da = dy·b·silu'(a), db = dy·silu(a).
MOELAB_EW_FN void swiglu_forward(const float* a, const float* b, float* y, size_t n) {
  size_t i = 0;
  for (; i + W <= n; i += W) store(y + i, mul(FSilu::f(load(a + i)), load(b + i)));
  if (i < n) storen(y + i, mul(FSilu::f(loadn(a + i, n - i)), loadn(b + i, n - i)), n - i);
}
MOELAB_EW_FN void swiglu_grad_a(const float* a, const float* b, const float* dy, float* da, size_t n) {
  size_t i = 0;
  for (; i + W <= n; i += W) store(da + i, mul(mul(load(dy + i), load(b + i)), FSilu::df(load(a + i))));
  if (i < n) {
    const size_t r = n - i;
    storen(da + i, mul(mul(loadn(dy + i, r), loadn(b + i, r)), FSilu::df(loadn(a + i, r))), r);
  }
}
MOELAB_EW_FN void swiglu_grad_b(const float* a, const float* dy, float* db, size_t n) {
  size_t i = 0;
  for (; i + W <= n; i += W) store(db + i, mul(load(dy + i), FSilu::f(load(a + i))));
  if (i < n) storen(db + i, mul(loadn(dy + i, n - i), FSilu::f(loadn(a + i, n - i))), n - i);
}
