// Causal attention of one key/value head and its g query heads (compiled per ISA by per_isa.h, inside attention.cc's
// namespace; MOELAB_EW_FN is the target attribute). Loops are arranged so the innermost one runs over keys or over
// channels without a reduction, which the compiler vectorises: scores use K transposed (kt [dk, S]), dP uses V
// transposed (vt [dv, S]). Visibility of key j to the query at position p = offset + t: j ≤ p and, with a window w > 0,
// p − j < w or j < global. Rows that see no key give zeros.

// The keys the query at position p sees, as two ranges: the global head [0, head) and the window [start, end)
// (one range [0, end) without a window). Only these are scored, so a sliding window costs O(T·(window + global)).
struct Visible {
  int64_t head;   // global keys [0, head) before the window
  int64_t start;  // window [start, end)
  int64_t end;
};
inline Visible visible(int64_t p, int64_t S, int64_t window, int64_t global) {
  const int64_t end = std::max<int64_t>(0, std::min<int64_t>(p + 1, S));
  const int64_t start = window > 0 ? std::min(end, std::max<int64_t>(0, p - window + 1)) : 0;
  return {std::min(global, start), start, end};
}

// s[j] = scale · q·k_j for j in [lo, hi) (kt [dk, S]).
MOELAB_EW_FN inline void scores_range(const float* q, const float* kt, int64_t dk, int64_t S, int64_t lo, int64_t hi,
                                      float scale, float* s) {
  for (int64_t j = lo; j < hi; j++) s[j] = 0;
  for (int64_t c = 0; c < dk; c++) {
    const float qc = q[c] * scale;
    const float* kc = kt + c * S;
    for (int64_t j = lo; j < hi; j++) s[j] += qc * kc[j];
  }
}

// The visible keys as range r ∈ {0, 1}: the global head [0, head), then the window [start, end). Loops over both are
// written out (no lambdas), so every loop body gets this ISA's target attribute.
#define MOELAB_VISIBLE(vis, j, ...)                                          \
  for (int r_ = 0; r_ < 2; r_++)                                             \
    for (int64_t j = r_ ? (vis).start : 0; j < (r_ ? (vis).end : (vis).head); j++) __VA_ARGS__

// Forward of g query heads over one kv head: q [g, T, dk], k [S, dk], v [S, dv] → out [g, T, dv], lse [g, T].
// Scratch: kt [dk·S], s [S].
MOELAB_EW_FN void attention_forward_group(const float* q, const float* k, const float* v, float* out, float* lse,
                                          int64_t g, int64_t T, int64_t S, int64_t dk, int64_t dv, float scale,
                                          int64_t offset, int64_t window, int64_t global, float* kt, float* s) {
  for (int64_t j = 0; j < S; j++)
    for (int64_t c = 0; c < dk; c++) kt[c * S + j] = k[j * dk + c];
  for (int64_t h = 0; h < g; h++) {
    for (int64_t t = 0; t < T; t++) {
      const float* qt = q + (h * T + t) * dk;
      float* o = out + (h * T + t) * dv;
      for (int64_t c = 0; c < dv; c++) o[c] = 0;
      const Visible vis = visible(offset + t, S, window, global);
      if (vis.end == 0) {
        lse[h * T + t] = -INFINITY;
        continue;
      }
      scores_range(qt, kt, dk, S, 0, vis.head, scale, s);
      scores_range(qt, kt, dk, S, vis.start, vis.end, scale, s);
      float m = -INFINITY;
      MOELAB_VISIBLE(vis, j, { m = std::max(m, s[j]); })
      float sum = 0;
      MOELAB_VISIBLE(vis, j, {
        s[j] = std::exp(s[j] - m);
        sum += s[j];
      })
      const float inv = 1.0f / sum;
      MOELAB_VISIBLE(vis, j, {
        const float p = s[j] * inv;
        const float* vj = v + j * dv;
        for (int64_t c = 0; c < dv; c++) o[c] += p * vj[c];
      })
      lse[h * T + t] = m + std::log(sum);
    }
  }
}

// Backward of one kv head and its g query heads: given q, k, v, out, lse and dout [g, T, dv], writes dq [g, T, dk] and
// dk [S, dk], dv [S, dv] (this group's own rows: no other task touches them). Scratch: kt [dk·S], vt [dv·S], s [S], dp [S].
MOELAB_EW_FN void attention_backward_group(const float* q, const float* k, const float* v, const float* out,
                                           const float* lse, const float* dout, float* dq, float* dkk, float* dvv,
                                           int64_t g, int64_t T, int64_t S, int64_t dk, int64_t dv, float scale,
                                           int64_t offset, int64_t window, int64_t global, float* kt, float* vt,
                                           float* s, float* dp) {
  for (int64_t j = 0; j < S; j++) {
    for (int64_t c = 0; c < dk; c++) kt[c * S + j] = k[j * dk + c];
    for (int64_t c = 0; c < dv; c++) vt[c * S + j] = v[j * dv + c];
  }
  for (int64_t i = 0; i < S * dk; i++) dkk[i] = 0;
  for (int64_t i = 0; i < S * dv; i++) dvv[i] = 0;
  for (int64_t h = 0; h < g; h++) {
    for (int64_t t = 0; t < T; t++) {
      const float* qt = q + (h * T + t) * dk;
      const float* ot = out + (h * T + t) * dv;
      const float* dot = dout + (h * T + t) * dv;
      float* dqt = dq + (h * T + t) * dk;
      for (int64_t c = 0; c < dk; c++) dqt[c] = 0;
      const Visible vis = visible(offset + t, S, window, global);
      if (vis.end == 0) continue;
      scores_range(qt, kt, dk, S, 0, vis.head, scale, s);
      scores_range(qt, kt, dk, S, vis.start, vis.end, scale, s);
      const float l = lse[h * T + t];
      MOELAB_VISIBLE(vis, j, { s[j] = std::exp(s[j] - l); })  // P
      // dP[j] = dout · v_j over the visible ranges; D = dout · out (= Σ_j P·dP)
      MOELAB_VISIBLE(vis, j, { dp[j] = 0; })
      for (int64_t c = 0; c < dv; c++) {
        const float d = dot[c];
        const float* vc = vt + c * S;
        MOELAB_VISIBLE(vis, j, { dp[j] += d * vc[j]; })
      }
      float D = 0;
      for (int64_t c = 0; c < dv; c++) D += dot[c] * ot[c];
      MOELAB_VISIBLE(vis, j, {
        const float p = s[j];
        const float ds = p * (dp[j] - D) * scale;  // dScores (pre-scale) = P ∘ (dP − D), times scale
        const float* kj = k + j * dk;
        float* dkj = dkk + j * dk;
        float* dvj = dvv + j * dv;
        for (int64_t c = 0; c < dk; c++) dqt[c] += ds * kj[c];
        for (int64_t c = 0; c < dk; c++) dkj[c] += ds * qt[c];
        for (int64_t c = 0; c < dv; c++) dvj[c] += p * dot[c];
      })
    }
  }
}

#undef MOELAB_VISIBLE
