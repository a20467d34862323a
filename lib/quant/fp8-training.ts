// FP8 mixed-precision training, emulated: a linear layer whose GEMMs see FP8 inputs — activations and weights
// fake-quantized in the forward pass (their quantized values are what the backward GEMMs reuse), and the output
// gradient quantized before Dgrad and Wgrad — while master weights, optimizer state and the rest of the model stay
// fp32. Recipes: DeepSeek-V3's fine-grained scaling (1×128 activation/gradient tiles, 128×128 weight blocks, E4M3
// everywhere) and per-tensor scaling. Reference: DeepSeek-V3 (arXiv 2412.19437) §3.3 and Figure 6; the head and
// other sensitive parts stay in higher precision there too. The matmuls themselves run in float32 (no FP8 dtype in
// tfjs): only the rounding of their inputs is FP8.
import * as tf from "@tensorflow/tfjs";
import { Linear, LinearConfig } from "../nn/linear";
import { fakeQuant, gradQuant } from "./fake-quant";
import { BLOCK_128X128, PER_TENSOR, TILE_1X128 } from "./granularity";
import { QuantConfig } from "./quantized-tensor";
import { applyLinear } from "./weights";

/** What an FP8 linear layer quantizes. */
export interface Fp8Recipe {
  /** Input activations [N, in] (scales per tile along `in`). */
  activations: Partial<QuantConfig>;
  /** Weights [out, in]. */
  weights: Partial<QuantConfig>;
  /** The output gradient dY [N, out] before Dgrad and Wgrad; null keeps it fp32. */
  gradients: Partial<QuantConfig> | null;
}

/** The recipes compared in the fp8-training notebook. */
export const FP8_RECIPES: Readonly<Record<"fineGrained" | "perTensor", Fp8Recipe>> = Object.freeze<
  Record<"fineGrained" | "perTensor", Fp8Recipe>
>({
  /** DeepSeek-V3: E4M3 everywhere, 1×128 tiles for activations and gradients, 128×128 blocks for weights. */
  fineGrained: Object.freeze<Fp8Recipe>({
    activations: { format: "e4m3", granularity: TILE_1X128 },
    weights: { format: "e4m3", granularity: BLOCK_128X128 },
    gradients: { format: "e4m3", granularity: TILE_1X128 },
  }),
  /** One scale per tensor (current amax), E4M3 everywhere: the same formats, coarse scaling. */
  perTensor: Object.freeze<Fp8Recipe>({
    activations: { format: "e4m3", granularity: PER_TENSOR },
    weights: { format: "e4m3", granularity: PER_TENSOR },
    gradients: { format: "e4m3", granularity: PER_TENSOR },
  }),
});

/** x [N, in] · wᵀ ([out, in]) → [N, out] with the recipe's FP8 rounding in forward and backward. */
export function fp8Matmul(x: tf.Tensor2D, w: tf.Tensor2D, recipe: Fp8Recipe): tf.Tensor2D {
  return tf.tidy(() => {
    const xq = fakeQuant(x, recipe.activations); // [N, in]
    const wq = fakeQuant(w, recipe.weights); // [out, in]
    const y = tf.matMul(xq, wq, false, true) as tf.Tensor2D; // [N, out]
    return recipe.gradients ? (gradQuant(y, recipe.gradients) as tf.Tensor2D) : y;
  });
}

/** A Linear layer trained with FP8 GEMMs (same parameters and initialisation as Linear); recipe null = plain fp32. */
export class Fp8Linear extends Linear {
  constructor(
    inFeatures: number,
    outFeatures: number,
    readonly recipe: Fp8Recipe | null,
    config: Partial<LinearConfig> = {},
  ) {
    super(inFeatures, outFeatures, config);
  }

  /** x [..., in] → [..., out]. */
  override apply(x: tf.Tensor): tf.Tensor {
    if (!this.recipe) return super.apply(x);
    const recipe = this.recipe;
    const bias = this.bias as tf.Tensor1D | null;
    return applyLinear("Fp8Linear.apply(x)", x, this.inFeatures, this.outFeatures, bias, (x2) =>
      fp8Matmul(x2, this.weight as tf.Tensor2D, recipe),
    );
  }
}
