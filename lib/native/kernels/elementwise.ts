// Native kernels: broadcasting binary ops, unary ops, Cast.
import type { KernelConfig } from "@tensorflow/tfjs";

export const elementwiseKernels: KernelConfig[] = [];
