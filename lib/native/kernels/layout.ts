// Native kernels: Transpose, GatherV2, UnsortedSegmentSum.
import type { KernelConfig } from "@tensorflow/tfjs";

export const layoutKernels: KernelConfig[] = [];
