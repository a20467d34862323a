// Run-time CPU feature detection: kernels pick the widest ISA the CPU (and OS) supports.
#pragma once

namespace moelab {

struct CpuFeatures {
  bool avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512bf16 = false;
  bool amx_bf16 = false;
};

enum class Isa { scalar, avx2, avx512 };

const CpuFeatures& cpu_features();
// The ISA kernels use: avx512 (F+BW+VL+DQ), else avx2 (AVX2+FMA), else scalar. MOELAB_ISA=avx2|scalar caps it.
Isa best_isa();
const char* isa_name(Isa isa);

}  // namespace moelab
