// Native kernels: BatchMatMul, _FusedMatMul.
import type { KernelConfig } from "@tensorflow/tfjs";

export const matmulKernels: KernelConfig[] = [];
