// Full causal attention as batched GEMMs (attention_gemm.cc), beside the row kernels of attention_kernels.h: the
// shapes of one call and which formulation takes them.
#pragma once
#include <cstdint>

namespace moelab {

// q [B, H, T, dk], k [B, Hkv, S, dk], v [B, Hkv, S, dv]; query t sits at position offset + t, key j at position j;
// window 0 = none (then `global` has no effect).
struct AttentionDims {
  int64_t B, H, Hkv, T, S, dk, dv;
  float scale;
  int64_t offset, window, global;
};

// Whether attention_forward_gemm / attention_backward_gemm take these dims: no window, S > 0, and one key/value
// group's [g·T, S] score matrix within the GEMM path's scratch chunk (else the row kernels run).
bool attention_gemm_applies(const AttentionDims& d);

// out [B, H, T, dv] and lse [B, H, T] (each row's log-sum-exp of its scaled, visible scores). False when scratch
// memory could not be allocated.
bool attention_forward_gemm(const AttentionDims& d, const float* q, const float* k, const float* v, float* out,
                            float* lse);

// dq, dk, dv from q, k, v, out, lse and dout (the probabilities recomputed from lse). False when scratch memory
// could not be allocated.
bool attention_backward_gemm(const AttentionDims& d, const float* q, const float* k, const float* v, const float* out,
                             const float* lse, const float* dout, float* dq, float* dk, float* dv);

}  // namespace moelab
