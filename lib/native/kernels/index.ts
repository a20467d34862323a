// Every kernel the native backend overrides (the rest run tfjs's cpu implementations).
import type { KernelConfig } from "@tensorflow/tfjs";
import { attentionKernels } from "./attention";
import { elementwiseKernels } from "./elementwise";
import { fusedKernels } from "./fused";
import { layoutKernels } from "./layout";
import { matmulKernels } from "./matmul";
import { moeKernels } from "./moe";
import { quantKernels } from "./quant";
import { reductionKernels } from "./reduce";
import { rotaryKernels } from "./rotary";
import { sliceKernels } from "./slice";
import { topkKernels } from "./topk";

export const nativeKernels: KernelConfig[] = [
  ...matmulKernels,
  ...elementwiseKernels,
  ...reductionKernels,
  ...layoutKernels,
  ...sliceKernels,
  ...fusedKernels,
  ...moeKernels,
  ...quantKernels,
  ...attentionKernels,
  ...rotaryKernels,
  ...topkKernels,
];
