#include "cpu.h"

#include <cpuid.h>
#include <cstdlib>
#include <cstring>

namespace moelab {
namespace {

// XGETBV(0): which register states the OS saves (AVX needs YMM, AVX-512 needs opmask + ZMM).
unsigned long long xcr0() {
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  const bool has_fma = c & (1u << 12);
  if (!osxsave) return f;
  const unsigned long long xcr = xcr0();
  const bool ymm = (xcr & 0x6) == 0x6;
  const bool zmm = (xcr & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  f.avx2 = ymm && (b & (1u << 5));
  f.fma = ymm && has_fma;
  f.avx512f = zmm && (b & (1u << 16));
  f.avx512dq = zmm && (b & (1u << 17));
  f.avx512bw = zmm && (b & (1u << 30));
  f.avx512vl = zmm && (b & (1u << 31));
  f.amx_bf16 = d & (1u << 22);
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512bf16 = zmm && (a & (1u << 5));
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

Isa best_isa() {
  static const Isa isa = [] {
    const CpuFeatures& f = cpu_features();
    Isa best = Isa::scalar;
    if (f.avx2 && f.fma) best = Isa::avx2;
    if (best == Isa::avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq) best = Isa::avx512;
    const char* cap = std::getenv("MOELAB_ISA");
    if (cap && std::strcmp(cap, "scalar") == 0) best = Isa::scalar;
    if (cap && std::strcmp(cap, "avx2") == 0 && best == Isa::avx512) best = Isa::avx2;
    return best;
  }();
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace moelab
