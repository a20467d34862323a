// RoPE rotation of rows of one (batch, head): x [T, dh] by cos/sin [T, dh/2] (compiled per ISA by per_isa.h inside
// rotary.cc's namespace). Pairs (i, i + dh/2) ("half") or (2i, 2i + 1) ("interleaved"); (a, b) → (a·c − s·b, b·c + s·a)
// with s = sin, or −sin for the inverse rotation (the gradient).
MOELAB_EW_FN void rotate_rows(const float* x, const float* cos, const float* sin, float* out, int64_t T, int64_t half,
                              bool interleaved, float sign) {
  for (int64_t t = 0; t < T; t++) {
    const float* xr = x + t * 2 * half;
    float* o = out + t * 2 * half;
    const float* c = cos + t * half;
    const float* s = sin + t * half;
    if (interleaved) {
      for (int64_t i = 0; i < half; i++) {
        const float a = xr[2 * i], b = xr[2 * i + 1], si = sign * s[i];
        o[2 * i] = a * c[i] - b * si;
        o[2 * i + 1] = b * c[i] + a * si;
      }
    } else {
      for (int64_t i = 0; i < half; i++) {
        const float a = xr[i], b = xr[i + half], si = sign * s[i];
        o[i] = a * c[i] - b * si;
        o[i + half] = b * c[i] + a * si;
      }
    }
  }
}
