// The ISA-specific part of sgemm (gemm.h): one register-tile micro-kernel and one epilogue per instruction set.
// gemm.cc does the blocking, packing and threading and calls these through a KernelSet.
#pragma once
#include <cstdint>

#include "gemm.h"

namespace moelab::gemm {

// The epilogue for one tile: bias and prelu already point at the tile's (0, 0) element.
struct EpilogueTile {
  const float* bias;
  int64_t bias_rs, bias_cs;
  Activation activation;
  float alpha;
  const float* prelu;
  int64_t prelu_rs, prelu_cs;
};

// C[rows, cols] (+)= Apanel · Bpanel over kc steps.
//   a: packed A micro-panel, kc groups of mr floats (row i of step p at a[p * mr + i]); rows <= mr.
//   b: step p's cols values at b[p * bs]; packed panels (bs == nr) are zero-padded to nr columns; `direct` says b
//      points into the caller's matrix, so nothing past cols may be read.
//   accumulate: add to C instead of overwriting it.
//   prefetch: nullptr, or kc cache lines (16 floats apart) to bring towards the caches, one per step: the next
//      micro-panel, so its first use does not wait on memory.
using TileFn = void (*)(int64_t kc, const float* a, const float* b, int64_t bs, float* c, int64_t ldc, int rows,
                        int cols, bool accumulate, bool direct, const float* prefetch);
// C[rows, cols] = act(C + bias) in place.
using EpilogueFn = void (*)(float* c, int64_t ldc, int rows, int cols, const EpilogueTile& e);
// One packed micro-panel of width w (mr for A, nr for B): dst[p * w + r] = src[r * rs + p * cs] for r < count,
// 0 for count <= r < w, p < kc. rs == 1 copies; cs == 1 transposes (in-register blocks).
using PackFn = void (*)(const float* src, int64_t rs, int64_t cs, int64_t kc, int count, float* dst);
// C[rows, cols] = epilogue(A·B) for few rows (rows <= mr) and a B whose columns are contiguous (column j's k values at
// b + j·ldb: a transposed B, such as a Linear's [out, in] weight in x·Wᵀ): B is read once, in place, L columns at a time
// through in-register transposes, and each element is summed in the register tile's order (depth blocks of kc, steps
// in order within a block, each block's sum added to C), so every row equals what the packed path gives, bit for bit.
//   a: A packed as one micro-panel over the whole depth (row i of step p at a[p * mr + i]).
//   e: the epilogue at C's (0, 0), or nullptr for none.
using FewRowsFn = void (*)(int64_t k, int64_t kc, const float* a, const float* b, int64_t ldb, float* c, int64_t ldc,
                           int rows, int64_t cols, const EpilogueTile* e);

struct KernelSet {
  const char* name;
  int mr, nr;  // register tile: mr rows (broadcast from A) by nr columns (vectors of B)
  TileFn tile;
  EpilogueFn epilogue;
  PackFn pack_a;  // w = mr
  PackFn pack_b;  // w = nr
  FewRowsFn few_rows;
};

// Each is defined in its own translation unit, compiled for its ISA; call only when best_isa() allows it.
const KernelSet& kernels_avx512();
const KernelSet& kernels_avx2();
const KernelSet& kernels_portable();

}  // namespace moelab::gemm
