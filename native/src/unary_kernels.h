// The unary elementwise loops over the primitives of elementwise_simd.h and the math of unary_math.h. NOT
// include-guarded on purpose: unary.cc includes it once per ISA, inside a namespace that has
// `using namespace moelab::simd::<isa>;` and defines MOELAB_EW_FN (that ISA's target attribute).
// Each op matches tfjs-backend-cpu's kernels/<Op>.js on special values: NaN in gives NaN out (Step included),
// Relu(-0) = +0 like Math.max(0, x), Elu(x >= 0) = x, Softplus keeps the cpu thresholds (x for x > 13.94,
// e^x for x < -13.94).

#include "unary_math.h"

struct UExp {
  MOELAB_EW_FN static vf f(vf x, vf) { return exp_(x); }
};
struct UExpm1 {
  MOELAB_EW_FN static vf f(vf x, vf) { return expm1_(x); }
};
struct ULog {
  MOELAB_EW_FN static vf f(vf x, vf) { return log_(x); }
};
struct URelu {  // max(0, x) keeps NaN (second operand); + 0 turns -0 into +0
  MOELAB_EW_FN static vf f(vf x, vf) { return add(vmax(set1(0.0f), x), set1(0.0f)); }
};
struct URelu6 {
  MOELAB_EW_FN static vf f(vf x, vf) { return vmin(set1(6.0f), add(vmax(set1(0.0f), x), set1(0.0f))); }
};
struct ULeakyRelu {
  MOELAB_EW_FN static vf f(vf x, vf alpha) { return select(lt(x, set1(0.0f)), mul(alpha, x), x); }
};
struct UElu {
  MOELAB_EW_FN static vf f(vf x, vf) { return select(ge(x, set1(0.0f)), x, expm1_(x)); }
};
struct USigmoid {
  MOELAB_EW_FN static vf f(vf x, vf) { return sigmoid_(x); }
};
struct UTanh {
  MOELAB_EW_FN static vf f(vf x, vf) { return tanh_(x); }
};
struct USoftplus {  // cpu: x > -t ? x : x < t ? e^x : log(1 + e^x), t = log(2^-23) + 2; 0x1.be2806p+3 is the
                    // smallest float above -t, so x > -t <=> x >= it
  MOELAB_EW_FN static vf f(vf x, vf) {
    const vf big = set1(0x1.be2806p+3f);
    const vf e = exp_(sub(set1(0.0f), absv(x)));
    const vf mid = add(vmax(set1(0.0f), x), log1p_unit(e));
    return select(ge(x, big), x, select(le(x, sub(set1(0.0f), big)), e, mid));
  }
};
struct USqrt {
  MOELAB_EW_FN static vf f(vf x, vf) { return sqrt(x); }
};
struct URsqrt {
  MOELAB_EW_FN static vf f(vf x, vf) { return div(set1(1.0f), sqrt(x)); }
};
struct USquare {
  MOELAB_EW_FN static vf f(vf x, vf) { return mul(x, x); }
};
struct UNeg {
  MOELAB_EW_FN static vf f(vf x, vf) { return bxor(x, set1(-0.0f)); }
};
struct UAbs {
  MOELAB_EW_FN static vf f(vf x, vf) { return absv(x); }
};
struct UReciprocal {
  MOELAB_EW_FN static vf f(vf x, vf) { return div(set1(1.0f), x); }
};
struct UStep {
  MOELAB_EW_FN static vf f(vf x, vf alpha) { return select(unord(x, x), x, select(gt(x, set1(0.0f)), set1(1.0f), alpha)); }
};
struct UErf {
  MOELAB_EW_FN static vf f(vf x, vf) { return erf_(x); }
};

template <class Op>
MOELAB_EW_FN void unary_loop(const float* x, float* y, size_t n, float alpha) {
  const vf a = set1(alpha);
  size_t i = 0;
  for (; i + W <= n; i += W) store(y + i, Op::f(load(x + i), a));
  if (i < n) storen(y + i, Op::f(loadn(x + i, n - i), a), n - i);
}

// The loop of op `op` for this ISA.
inline UnaryLoop unary_loop_for(UnaryOp op) {
  switch (op) {
    case UnaryOp::exp: return &unary_loop<UExp>;
    case UnaryOp::expm1: return &unary_loop<UExpm1>;
    case UnaryOp::log: return &unary_loop<ULog>;
    case UnaryOp::relu: return &unary_loop<URelu>;
    case UnaryOp::relu6: return &unary_loop<URelu6>;
    case UnaryOp::leaky_relu: return &unary_loop<ULeakyRelu>;
    case UnaryOp::elu: return &unary_loop<UElu>;
    case UnaryOp::sigmoid: return &unary_loop<USigmoid>;
    case UnaryOp::tanh: return &unary_loop<UTanh>;
    case UnaryOp::softplus: return &unary_loop<USoftplus>;
    case UnaryOp::sqrt: return &unary_loop<USqrt>;
    case UnaryOp::rsqrt: return &unary_loop<URsqrt>;
    case UnaryOp::square: return &unary_loop<USquare>;
    case UnaryOp::neg: return &unary_loop<UNeg>;
    case UnaryOp::abs: return &unary_loop<UAbs>;
    case UnaryOp::reciprocal: return &unary_loop<UReciprocal>;
    case UnaryOp::step: return &unary_loop<UStep>;
    case UnaryOp::erf: return &unary_loop<UErf>;
  }
  return &unary_loop<UExp>;
}
