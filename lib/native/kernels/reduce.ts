// Native kernels: Sum, Max, Mean, ArgMax, Softmax, LogSoftmax.
import type { KernelConfig } from "@tensorflow/tfjs";

export const reductionKernels: KernelConfig[] = [];
