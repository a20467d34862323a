// Attention of one key/value head and its g query heads over a slot buffer with per-row positions (compiled per ISA
// by per_isa.h inside slot_attention.cc's namespace; MOELAB_EW_FN is the target attribute, simd:: in scope). The
// buffer holds `cap` slots of width kw (keys) / vw (values); the first S are read, key columns [0, dk) and value
// columns [0, dv). Slot s is visible to the query at position p iff kpos[s] ≥ 0, p ≥ 0, kpos[s] ≤ p and, with a
// window w > 0, p − kpos[s] < w or kpos[s] < global. A query that sees nothing (padding) gives zeros.
#include "unary_math.h"

// q·k over dk channels.
MOELAB_EW_FN inline float slot_dot(const float* a, const float* b, int64_t n) {
  vf acc = set1(0.0f);
  int64_t c = 0;
  for (; c + W <= n; c += W) acc = fma(load(a + c), load(b + c), acc);
  if (c < n) acc = fma(loadn(a + c, static_cast<size_t>(n - c)), loadn(b + c, static_cast<size_t>(n - c)), acc);
  return hsum(acc);
}

// o += p · v over dv channels.
MOELAB_EW_FN inline void slot_axpy(float* o, const float* v, float p, int64_t n) {
  const vf pv = set1(p);
  int64_t c = 0;
  for (; c + W <= n; c += W) store(o + c, fma(pv, load(v + c), load(o + c)));
  if (c < n) {
    const size_t r = static_cast<size_t>(n - c);
    storen(o + c, fma(pv, loadn(v + c, r), loadn(o + c, r)), r);
  }
}

// q [g, T, dk] (this kv head's g query heads), k [cap, kw], v [cap, vw], qpos [T], kpos [S] → out [g, T, dv].
// Per query: the visible slots are listed once (shared by the g heads), only they are scored, the exponentials run
// vectorised (exp_ of unary_math.h). Scratch: s [S] scores, seen [S] slot indices.
MOELAB_EW_FN void slot_attention_group(const float* q, const float* k, const float* v, float* out,
                                       const int32_t* qpos, const int32_t* kpos, int64_t g, int64_t T, int64_t S,
                                       int64_t dk, int64_t kw, int64_t dv, int64_t vw, float scale, int64_t window,
                                       int64_t global, float* s, int64_t* seen) {
  for (int64_t t = 0; t < T; t++) {
    const int64_t p = qpos[t];
    int64_t n = 0;
    for (int64_t j = 0; p >= 0 && j < S; j++) {
      const int64_t kp = kpos[j];
      if (kp >= 0 && kp <= p && (window == 0 || p - kp < window || kp < global)) seen[n++] = j;
    }
    for (int64_t h = 0; h < g; h++) {
      const float* qt = q + (h * T + t) * dk;
      float* o = out + (h * T + t) * dv;
      for (int64_t c = 0; c < dv; c++) o[c] = 0;
      if (n == 0) continue;  // padding, or nothing visible: zeros
      float m = -INFINITY;
      for (int64_t i = 0; i < n; i++) {
        s[i] = scale * slot_dot(qt, k + seen[i] * kw, dk);
        m = std::max(m, s[i]);
      }
      const vf vm = set1(m);
      int64_t i = 0;
      for (; i + W <= n; i += W) store(s + i, exp_(sub(load(s + i), vm)));
      if (i < n) storen(s + i, exp_(sub(loadn(s + i, static_cast<size_t>(n - i)), vm)), static_cast<size_t>(n - i));
      float sum = 0;
      for (i = 0; i < n; i++) sum += s[i];
      const float inv = 1.0f / sum;
      for (i = 0; i < n; i++) slot_axpy(o, v + seen[i] * vw, s[i] * inv, dv);
    }
  }
}
