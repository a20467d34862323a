import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { GRADIENT_KERNELS, GRADIENTS, registerGradients } from "../../lib/ops";

describe("registerGradients", () => {
  it("registers every gradient and the wasm kernel on import, idempotently", () => {
    const current = () => GRADIENTS.map((g) => tf.getGradient(g.kernelName));
    expect(current()).toEqual(GRADIENTS);
    for (const k of GRADIENT_KERNELS) expect(tf.getKernel(k.kernelName, k.backendName)?.kernelFunc).toBe(k.kernelFunc);
    registerGradients();
    registerGradients();
    expect(current()).toEqual(GRADIENTS);
    expect(new Set(GRADIENTS.map((g) => g.kernelName))).toEqual(
      new Set(["TopK", "Cumsum", "GatherV2", "GatherNd", "ScatterNd", "Maximum", "Minimum", "SquaredDifference"]),
    );
  });

  it("re-installs a gradient something else replaced", () => {
    const cumsum = GRADIENTS.find((g) => g.kernelName === "Cumsum")!;
    tf.registerGradient({ kernelName: "Cumsum", gradFunc: (dy) => ({ x: () => dy as tf.Tensor }) });
    expect(tf.getGradient("Cumsum")).not.toBe(cumsum);
    registerGradients();
    expect(tf.getGradient("Cumsum")).toBe(cumsum);
  });
});
