// Every kernel the native backend overrides (the rest run tfjs's cpu implementations).
import type { KernelConfig } from "@tensorflow/tfjs";

export const nativeKernels: KernelConfig[] = [];
