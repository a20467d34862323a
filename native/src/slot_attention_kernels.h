// Attention of one key/value head and its g query heads over a slot buffer with per-row positions (compiled per ISA
// by per_isa.h inside slot_attention.cc's namespace; MOELAB_EW_FN is the target attribute, simd:: in scope). The
// buffer holds `cap` slots of width kw (keys) / vw (values); the first S are read, key columns [0, dk) and value
// columns [0, dv). Slot s is visible to the query at position p iff kpos[s] ≥ 0, p ≥ 0, kpos[s] ≤ p and, with a
// window w > 0, p − kpos[s] < w or kpos[s] < global. A query that sees nothing (padding) gives zeros.

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
// Scratch s [S].
MOELAB_EW_FN void slot_attention_group(const float* q, const float* k, const float* v, float* out,
                                       const int32_t* qpos, const int32_t* kpos, int64_t g, int64_t T, int64_t S,
                                       int64_t dk, int64_t kw, int64_t dv, int64_t vw, float scale, int64_t window,
                                       int64_t global, float* s) {
  for (int64_t t = 0; t < T; t++) {
    const int64_t p = qpos[t];
    for (int64_t h = 0; h < g; h++) {
      const float* qt = q + (h * T + t) * dk;
      float* o = out + (h * T + t) * dv;
      for (int64_t c = 0; c < dv; c++) o[c] = 0;
      if (p < 0) continue;
      float m = -INFINITY;
      for (int64_t j = 0; j < S; j++) {
        const int64_t kp = kpos[j];
        const bool seen = kp >= 0 && kp <= p && (window == 0 || p - kp < window || kp < global);
        s[j] = seen ? scale * slot_dot(qt, k + j * kw, dk) : -INFINITY;
        m = std::max(m, s[j]);
      }
      if (m == -INFINITY) continue;
      float sum = 0;
      for (int64_t j = 0; j < S; j++) {
        s[j] = s[j] == -INFINITY ? 0.0f : std::exp(s[j] - m);
        sum += s[j];
      }
      const float inv = 1.0f / sum;
      for (int64_t j = 0; j < S; j++)
        if (s[j] > 0) slot_axpy(o, v + j * vw, s[j] * inv, dv);
    }
  }
}
