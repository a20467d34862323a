// Which bf16 product engine this process may use (gemm_bf16.cc decides once: AMX when the OS grants the tile state,
// else AVX512-BF16); the measured-peak kernels (peak.cc) ask the same question.
#pragma once

namespace moelab {

// True when AMX-BF16 tiles are usable here (asks the OS for the tile data state once per process).
bool amx_bf16_usable();

}  // namespace moelab
