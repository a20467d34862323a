// Vectorised float32 exp, expm1, log, log1p (of [0, 1]), tanh, sigmoid, erf, written once over the primitives of
// elementwise_simd.h. NOT include-guarded on purpose: it is included once per ISA, inside a namespace that has
// `using namespace moelab::simd::<isa>;` and defines MOELAB_EW_FN (the target attribute of that ISA).
// References: Cody & Waite argument reduction; log after FreeBSD/Sun e_logf.c (coefficients Lg1..Lg4, "Copyright (C)
// 1993 by Sun Microsystems ... Permission to use, copy, modify, and distribute this software is freely granted,
// provided that this notice is preserved"); erf coefficients fitted for this file: weighted least squares (relative
// error) on Chebyshev nodes against mpmath at 40 digits, erf(x)/x as a degree-6 polynomial in x² on [0, 1] and
// e^(x²)·erfc(x) as a degree-11 polynomial in x - 2.5 on [1, 4], coefficients rounded to float. Measured accuracy:
// the header of native/src/unary.cc.

// 2^n for integer lanes n in [-126, 127].
MOELAB_EW_FN inline vf pow2i(vi n) { return asfloat(isll<23>(iadd(n, seti(127)))); }

MOELAB_EW_FN inline vf copysign_of(vf magnitude, vf sign_from) {
  const vf sign = set1(-0.0f);
  return bor(bandnot(sign, magnitude), band(sign, sign_from));
}

MOELAB_EW_FN inline vf absv(vf x) { return bandnot(set1(-0.0f), x); }

// x = n·ln2 + r with |r| <= ~ln2/2 (n an integer, returned as int lanes) and pm1 = e^r - 1 (Taylor to r^7: the
// truncation error is 2^-26 relative at |r| = ln2/2, below float rounding). Needs |x| < 2^21.
struct ExpParts {
  vf pm1;
  vf nf;
  vi n;
};
MOELAB_EW_FN inline ExpParts exp_reduce(vf x) {
  const vf shifter = set1(12582912.0f);  // 1.5·2^23: adding it rounds to an integer held in the low mantissa bits
  const vf t = fma(x, set1(1.44269504088896341f), shifter);
  const vf nf = sub(t, shifter);
  const vi n = isub(asint(t), asint(shifter));
  vf r = fnma(nf, set1(0.693359375f), x);  // ln2 split in a 9-bit head (n·head exact) and a tail
  r = fnma(nf, set1(-2.12194440e-4f), r);
  vf p = fma(set1(1.0f / 5040), r, set1(1.0f / 720));
  p = fma(p, r, set1(1.0f / 120));
  p = fma(p, r, set1(1.0f / 24));
  p = fma(p, r, set1(1.0f / 6));
  p = fma(p, r, set1(0.5f));
  return {fma(mul(r, r), p, r), nf, n};
}

// e^x: overflow gives +Inf, underflow 0 through the subnormals, NaN stays NaN.
MOELAB_EW_FN inline vf exp_(vf x) {
  const vf xc = vmin(set1(89.0f), vmax(set1(-104.0f), x));  // NaN-preserving clamp (x is the second operand)
  const ExpParts e = exp_reduce(xc);
  // Scale by 2^n (n in [-150, 128]) in two exact steps; only the last one can round (into the subnormals).
  const vi n1 = isra<1>(e.n);
  const vi n2 = isub(e.n, n1);
  return mul(mul(add(e.pm1, set1(1.0f)), pow2i(n1)), pow2i(n2));
}

// e^x - 1 without cancellation near 0; keeps the sign of x (expm1(-0) = -0).
MOELAB_EW_FN inline vf expm1_(vf x) {
  const vf xc = vmin(set1(89.0f), vmax(set1(-30.0f), x));  // below -30 the result rounds to -1
  const ExpParts e = exp_reduce(xc);
  // n <= 0: 2^n·pm1 + (2^n - 1) (both terms exact, one rounding).
  const vf s = pow2i(e.n);
  const vf low = fma(s, e.pm1, sub(s, set1(1.0f)));
  // n > 0: (pm1 + (1 - 2^-n))·2^(n-1)·2, where 1 - 2^-n is exact up to n = 24 and rounds to 1 beyond.
  const vi m = imin(e.n, seti(25));
  const vi zero = seti(0);
  const vf high = mul(mul(add(e.pm1, sub(set1(1.0f), pow2i(isub(zero, m)))), pow2i(isub(e.n, seti(1)))), set1(2.0f));
  return copysign_of(select(gt(e.nf, set1(0.0f)), high, low), x);
}

// Natural log: x < 0 gives NaN, log(±0) = -Inf, log(+Inf) = +Inf, subnormals handled.
MOELAB_EW_FN inline vf log_(vf x) {
  const vm tiny = lt(x, set1(1.17549435e-38f));  // subnormal (or <= 0: fixed below): scale by 2^25 first
  const vf xs = select(tiny, mul(x, set1(33554432.0f)), x);
  vi ix = iadd(asint(xs), seti(0x3f800000 - 0x3f3504f3));  // mantissa into [sqrt(1/2), sqrt(2))
  const vf k = add(tofloat(isub(isrl<23>(ix), seti(0x7f))), select(tiny, set1(-25.0f), set1(0.0f)));
  ix = iadd(iand(ix, seti(0x007fffff)), seti(0x3f3504f3));
  const vf f = sub(asfloat(ix), set1(1.0f));
  const vf s = div(f, add(set1(2.0f), f));
  const vf z = mul(s, s);
  const vf w = mul(z, z);
  const vf t1 = mul(w, fma(w, set1(0.24279078841f), set1(0.40000972152f)));
  const vf t2 = mul(z, fma(w, set1(0.28498786688f), set1(0.66666662693f)));
  const vf R = add(t2, t1);
  const vf hfsq = mul(set1(0.5f), mul(f, f));
  // k·ln2_hi - ((hfsq - (s·(hfsq + R) + k·ln2_lo)) - f)
  const vf inner = fma(s, add(hfsq, R), mul(k, set1(9.0580006145e-06f)));
  vf r = fma(k, set1(6.9313812256e-01f), sub(f, sub(hfsq, inner)));
  r = select(eq(x, set1(0.0f)), set1(-__builtin_inff()), r);
  r = select(lt(x, set1(0.0f)), set1(__builtin_nanf("")), r);
  r = select(eq(x, set1(__builtin_inff())), x, r);
  return select(unord(x, x), x, r);
}

// log(1 + y) for y in [0, 1] (Goldberg: log(u)·y/(u - 1) with u = 1 + y cancels the rounding of u).
MOELAB_EW_FN inline vf log1p_unit(vf y) {
  const vf u = add(set1(1.0f), y);
  const vf d = sub(u, set1(1.0f));
  return select(eq(d, set1(0.0f)), y, mul(log_(u), div(y, d)));
}

// tanh(x) = sign(x)·(-m)/(2 + m) with m = expm1(-2|x|).
MOELAB_EW_FN inline vf tanh_(vf x) {
  const vf m = expm1_(mul(absv(x), set1(-2.0f)));
  return copysign_of(div(sub(set1(0.0f), m), add(set1(2.0f), m)), x);
}

// 1/(1 + e^-x), as e^x/(1 + e^x) for x < 0 so that tiny results keep their precision (down to the subnormals).
MOELAB_EW_FN inline vf sigmoid_(vf x) {
  const vf e = exp_(sub(set1(0.0f), absv(x)));
  return div(select(lt(x, set1(0.0f)), e, set1(1.0f)), add(set1(1.0f), e));
}

// erf: x·P(x²) for |x| < 1; 1 - e^(-x²)·G(|x| - 2.5) for 1 <= |x| (clamped at 4, where erf rounds to ±1).
// Fit errors: P 1.2e-9 relative, G 6.4e-8 relative (erf error < 1.3e-8 absolute).
MOELAB_EW_FN inline vf erf_(vf x) {
  const vf z = mul(x, x);
  vf p = fma(set1(7.847259258e-05f), z, set1(-8.008189616e-04f));
  p = fma(p, z, set1(5.188099109e-03f));
  p = fma(p, z, set1(-2.685369179e-02f));
  p = fma(p, z, set1(1.128358245e-01f));
  p = fma(p, z, set1(-3.761262596e-01f));
  p = fma(p, z, set1(1.128379107e+00f));
  const vf small = mul(x, p);
  const vf ax = absv(x);
  const vm big = ge(ax, set1(1.0f));
  if (!any(big)) return small;
  const vf a = vmin(set1(4.0f), vmax(set1(1.0f), ax));
  const vf v = sub(a, set1(2.5f));
  vf g = fma(set1(-3.835798736e-07f), v, set1(1.658841825e-06f));
  g = fma(g, v, set1(-4.009343229e-06f));
  g = fma(g, v, set1(1.442577741e-05f));
  g = fma(g, v, set1(-5.894270726e-05f));
  g = fma(g, v, set1(2.128320484e-04f));
  g = fma(g, v, set1(-7.337129791e-04f));
  g = fma(g, v, set1(2.466092817e-03f));
  g = fma(g, v, set1(-8.001474664e-03f));
  g = fma(g, v, set1(2.493817359e-02f));
  g = fma(g, v, set1(-7.434736192e-02f));
  g = fma(g, v, set1(2.108063549e-01f));
  const vf large = fnma(exp_(sub(set1(0.0f), mul(a, a))), g, set1(1.0f));
  return select(big, copysign_of(large, x), small);
}
