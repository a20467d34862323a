// Unknown config keys are errors, in every config merge (lib/check.ts withDefaults): the key is named and the valid
// ones listed. Before, `MoELayer(8, { nExperts: 4 })` silently built the default 8-expert layer.
import { describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { withDefaults } from "../lib/check";
import { Linear } from "../lib/nn";
import { MoELayer } from "../lib/moe";
import { lmConfig, sampleToken } from "../lib/model";
import { randomBatches, splitTokens } from "../lib/data";
import { ppoConfig } from "../lib/rl/ppo";
import { quantize } from "../lib/quant";
import { fitConfig } from "../lib/train/fit";
import { adamw } from "../lib/train/optimizer";

describe("unknown config keys", () => {
  it("withDefaults merges known keys and names an unknown one with the valid list", () => {
    const defaults = Object.freeze({ a: 1, b: "x" });
    expect(withDefaults("f(config)", defaults, { b: "y" })).toEqual({ a: 1, b: "y" });
    expect(withDefaults("f(config)", defaults, undefined)).toEqual({ a: 1, b: "x" });
    expect(() => withDefaults("f(config)", defaults, { c: 2 } as never)).toThrow(
      'f(config): unknown config key "c"; valid keys: a, b',
    );
    expect(() => withDefaults("f(config)", defaults, [1] as never)).toThrow(
      "f(config): config must be an object, got an array",
    );
    expect(withDefaults("f(config)", defaults, { c: 2 } as never, ["c"])).toEqual({ a: 1, b: "x", c: 2 });
  });

  it("are refused by the layers, models, data, RL and quantization entry points", () => {
    const before = tf.memory().numTensors;
    expect(() => new MoELayer(8, { nExperts: 4 } as never)).toThrow(
      /^MoELayer: unknown config key "nExperts"; valid keys: topK, .*nRouted, /,
    );
    expect(() => new Linear(2, 3, { biass: true } as never)).toThrow(
      'Linear(inFeatures, outFeatures, config): unknown config key "biass"; valid keys: bias, initStd',
    );
    expect(() => lmConfig({ moe: { nExpert: 4 } } as never)).toThrow(
      /lmConfig: unknown moe key "nExpert"; valid keys: .*nRouted/,
    );
    expect(() => lmConfig({ layers: 4 } as never)).toThrow(
      /lmConfig: unknown config key "layers"; valid keys: .*nLayers/,
    );
    expect(() => sampleToken([0, 1], { topk: 1 } as never)).toThrow(
      /sampleToken\(logits, config\): unknown config key "topk"; valid keys: temperature, topK/,
    );
    expect(() => randomBatches(new Int32Array(100), { batch: 2 } as never)).toThrow(
      /randomBatches\(config\): unknown config key "batch"/,
    );
    expect(() => splitTokens(new Int32Array(100), { valFrac: 0.1 } as never)).toThrow(
      /splitTokens\(tokens, config\): unknown config key "valFrac"/,
    );
    expect(() => ppoConfig({ loss: { clipEps: 0.1 } } as never)).toThrow(
      /rl\.ppo\(config\): unknown config\.loss key "clipEps"/,
    );
    expect(() => quantize(new Float32Array(4), { fromat: "int8" } as never, { shape: [4] })).toThrow(
      /unknown config key "fromat"; valid keys: .*format/,
    );
    expect(() => fitConfig({ step: 10 } as never)).toThrow(
      /^fit\(options\): unknown config key "step"; valid keys: steps, /,
    );
    expect(() => fitConfig({ optimizer: { lr: 1e-3 } } as never)).toThrow(
      /^fit\(options\): unknown config\.optimizer key "lr"; valid keys: beta1, /,
    );
    expect(() => adamw({ weight_decay: 0.1 } as never)).toThrow(
      /^adamw\(config\): unknown config key "weight_decay"; valid keys: .*weightDecay/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
