// Single-precision GEMM: C[m,n] = op(A)·op(B) with a fused epilogue (bias, activation), batched with per-matrix
// offsets. BLIS/GotoBLAS design (Goto & van de Geijn, "Anatomy of High-Performance Matrix Multiplication", 2008):
// packed panels, cache blocking, an AVX-512 / AVX2 / portable register-tile micro-kernel picked by best_isa().
#pragma once
#include <cstdint>

namespace moelab {

// The fused activations of tfjs _FusedMatMul (tfjs-backend-cpu utils/fused_utils.ts applyActivation).
enum class Activation { linear, relu, relu6, elu, sigmoid, leakyrelu, prelu };

// A tensor broadcast over one output matrix: element (i, j) is data[i * row_stride + j * col_stride];
// col_stride is 0 (one value per row) or 1 (a row of n values).
struct Broadcast {
  const float* data = nullptr;
  int64_t row_stride = 0, col_stride = 0;
};

// What happens to each output element after the product: y = act(c + bias).
struct Epilogue {
  Broadcast bias;                           // added when bias.data is set
  Activation activation = Activation::linear;
  float alpha = 0;                          // leakyrelu slope for x < 0
  Broadcast prelu;                          // prelu slopes for x < 0 (activation == prelu)
  bool trivial() const { return bias.data == nullptr && activation == Activation::linear; }
};

// One product's shape and layout. A is [m,k] row-major (or [k,m] when trans_a), B is [k,n] (or [n,k] when trans_b),
// C is [m,n] row-major; ld* are the row strides in elements (the dense value when 0).
struct GemmShape {
  int64_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  int64_t lda = 0, ldb = 0, ldc = 0;
};

// Per-matrix element offsets of a batch (arrays of `batch` entries). A null array means 0 for every matrix, except
// for c, where it means the dense layout (matrix i at i·m·ldc).
struct BatchOffsets {
  const int64_t* a = nullptr;
  const int64_t* b = nullptr;
  const int64_t* c = nullptr;
  const int64_t* bias = nullptr;
  const int64_t* prelu = nullptr;
};

// C_i = epilogue(op(A_i)·op(B_i)) for i < batch, where X_i = x + offsets.x[i]. Runs on the thread pool (over the
// batch, or inside each product) when the work is large enough to pay for it. k == 0 gives epilogue(0).
// Returns false when scratch memory could not be allocated (C is then incomplete).
bool sgemm_batched(const GemmShape& shape, int64_t batch, const float* a, const float* b, float* c,
                   const Epilogue& epilogue, const BatchOffsets& offsets);

// One product of a grouped call: C = op(A)·op(B) with `shape`'s layout (as in sgemm_batched; no epilogue).
struct GemmProblem {
  GemmShape shape;
  const float* a;
  const float* b;
  float* c;
};

// Every product of `problems` (independent outputs), the group on the pool at once: the products are cut into tasks of
// about one packed A block of rows, which the threads take in order, so products of uneven sizes (MoE experts with
// ragged token counts) share the cores by their work and no thread waits at the end of each product. k == 0 gives 0.
// Returns false when scratch memory could not be allocated (some C are then incomplete).
bool sgemm_grouped(const GemmProblem* problems, int64_t count);

// The micro-kernel family sgemm uses here ("avx512", "avx2" or "portable").
const char* sgemm_kernel_name();

}  // namespace moelab
