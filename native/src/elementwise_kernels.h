// The binary elementwise loops (Add, Sub, Multiply, RealDiv, Maximum, Minimum, SquaredDifference) over the
// primitives of elementwise_simd.h. NOT include-guarded on purpose: elementwise.cc includes it once per ISA, inside a
// namespace that has `using namespace moelab::simd::<isa>;` and defines MOELAB_EW_FN (that ISA's target attribute).
// Semantics are tfjs-backend-cpu's (kernels/*.js: a + b, a - b, a * b, a / b, Math.max, Math.min, (a - b)²): for
// + - * / the float result equals JavaScript's double result rounded to float (double rounding is innocuous for
// these), Maximum/Minimum return NaN when either input is NaN and order +0 above -0 like Math.max/Math.min.

struct OpAdd {
  MOELAB_EW_FN static vf f(vf a, vf b) { return add(a, b); }
};
struct OpSub {
  MOELAB_EW_FN static vf f(vf a, vf b) { return sub(a, b); }
};
struct OpMul {
  MOELAB_EW_FN static vf f(vf a, vf b) { return mul(a, b); }
};
struct OpDiv {
  MOELAB_EW_FN static vf f(vf a, vf b) { return div(a, b); }
};
struct OpMax {
  MOELAB_EW_FN static vf f(vf a, vf b) {
    const vf m = select(eq(a, b), band(a, b), vmax(a, b));  // max(+0, -0) = +0
    return select(unord(a, b), add(a, b), m);
  }
};
struct OpMin {
  MOELAB_EW_FN static vf f(vf a, vf b) {
    const vf m = select(eq(a, b), bor(a, b), vmin(a, b));  // min(+0, -0) = -0
    return select(unord(a, b), add(a, b), m);
  }
};
struct OpSquaredDifference {
  MOELAB_EW_FN static vf f(vf a, vf b) {
    const vf d = sub(a, b);
    return mul(d, d);
  }
};

// o[i] = a[i] op b[i]
template <class Op>
MOELAB_EW_FN void binary_vv(const float* a, const float* b, float* o, size_t n) {
  size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    store(o + i, Op::f(load(a + i), load(b + i)));
    store(o + i + W, Op::f(load(a + i + W), load(b + i + W)));
  }
  for (; i + W <= n; i += W) store(o + i, Op::f(load(a + i), load(b + i)));
  if (i < n) storen(o + i, Op::f(loadn(a + i, n - i), loadn(b + i, n - i)), n - i);
}

// o[i] = a[i] op b[0]
template <class Op>
MOELAB_EW_FN void binary_vs(const float* a, const float* b, float* o, size_t n) {
  const vf s = set1(*b);
  size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    store(o + i, Op::f(load(a + i), s));
    store(o + i + W, Op::f(load(a + i + W), s));
  }
  for (; i + W <= n; i += W) store(o + i, Op::f(load(a + i), s));
  if (i < n) storen(o + i, Op::f(loadn(a + i, n - i), s), n - i);
}

// o[i] = a[0] op b[i]
template <class Op>
MOELAB_EW_FN void binary_sv(const float* a, const float* b, float* o, size_t n) {
  const vf s = set1(*a);
  size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    store(o + i, Op::f(s, load(b + i)));
    store(o + i + W, Op::f(s, load(b + i + W)));
  }
  for (; i + W <= n; i += W) store(o + i, Op::f(s, load(b + i)));
  if (i < n) storen(o + i, Op::f(s, loadn(b + i, n - i)), n - i);
}

template <class Op>
constexpr BinaryLoops binary_loops_of() {
  return {&binary_vv<Op>, &binary_vs<Op>, &binary_sv<Op>};
}

// The loops of op `op` (BinaryOp) for this ISA.
inline BinaryLoops binary_loops(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return binary_loops_of<OpAdd>();
    case BinaryOp::sub: return binary_loops_of<OpSub>();
    case BinaryOp::mul: return binary_loops_of<OpMul>();
    case BinaryOp::div: return binary_loops_of<OpDiv>();
    case BinaryOp::max: return binary_loops_of<OpMax>();
    case BinaryOp::min: return binary_loops_of<OpMin>();
    case BinaryOp::squared_difference: return binary_loops_of<OpSquaredDifference>();
  }
  return binary_loops_of<OpAdd>();
}
