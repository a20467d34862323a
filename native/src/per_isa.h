// Compiles the kernel header named by MOELAB_KERNELS (a quoted path) three times, into namespaces isa_avx512,
// isa_avx2 and isa_scalar, with MOELAB_EW_FN set to the matching per-function target attribute and the matching
// simd:: vector primitives in scope (elementwise_simd.h). Include it inside the file's namespace.
#ifndef MOELAB_KERNELS
#error "define MOELAB_KERNELS before including per_isa.h"
#endif

namespace isa_avx512 {
using namespace simd::avx512;
#define MOELAB_EW_FN MOELAB_TARGET_AVX512
#include MOELAB_KERNELS
#undef MOELAB_EW_FN
}  // namespace isa_avx512

namespace isa_avx2 {
using namespace simd::avx2;
#define MOELAB_EW_FN MOELAB_TARGET_AVX2
#include MOELAB_KERNELS
#undef MOELAB_EW_FN
}  // namespace isa_avx2

namespace isa_scalar {
using namespace simd::scalar;
#define MOELAB_EW_FN
#include MOELAB_KERNELS
#undef MOELAB_EW_FN
}  // namespace isa_scalar

#undef MOELAB_KERNELS
