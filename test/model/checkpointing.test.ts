// Gradient checkpointing: the same gradients as the plain model (dense and MoE blocks), a lower peak of tensor memory
// during the step, the same forward in eval and generation, no tensor growth, and a named error for a bad flag.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { lmConfig, LMConfig, stepMemory, TransformerLM } from "../../lib/model";
import { checkpointTradeoff } from "../../lib/experiments";

beforeAll(async () => {
  await selectBackend();
});

const DENSE: Partial<LMConfig> = { vocabSize: 32, dim: 32, nLayers: 4, nHeads: 4, contextLen: 32, ffnHidden: 64 };
const MOE: Partial<LMConfig> = {
  ...DENSE,
  ffn: "moe",
  nDenseLayers: 1,
  moe: { nRouted: 4, nShared: 1, topK: 2, expertHidden: 16, balance: "switch", balanceCoef: 0.01 },
};

function batch(B: number, T: number, V: number): [tf.Tensor2D, tf.Tensor2D] {
  const ids = Int32Array.from({ length: B * (T + 1) }, (_, i) => (i * 7 + 3) % V);
  const all = tf.tensor2d(ids, [B, T + 1], "int32");
  const out = [tf.slice(all, [0, 0], [B, T]), tf.slice(all, [0, 1], [B, T])] as [tf.Tensor2D, tf.Tensor2D];
  all.dispose();
  return out;
}

/** Loss and gradients keyed by parameter name ("layers.0.attn.wqkv.weight" ...). */
function gradients(
  model: TransformerLM,
  inputs: tf.Tensor2D,
  targets: tf.Tensor2D,
): { loss: number; grads: Map<string, Float32Array> } {
  const trainable = new Set(model.trainableVariables());
  const named = [...model.stateDict()].filter(([, v]) => trainable.has(v as tf.Variable)) as [string, tf.Variable][];
  const { value, grads } = tf.variableGrads(
    () => model.loss(inputs, targets).loss,
    named.map(([, v]) => v),
  );
  const out = new Map(named.map(([n, v]) => [n, grads[v.name].dataSync() as Float32Array]));
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: out };
}

/** The same weights with checkpointing off and on. */
function pair(config: Partial<LMConfig>): [TransformerLM, TransformerLM] {
  seed(11);
  const plain = new TransformerLM({ ...config, checkpoint: false });
  seed(11);
  const ckpt = new TransformerLM({ ...config, checkpoint: true });
  return [plain, ckpt];
}

describe("gradient checkpointing", () => {
  for (const [name, config] of [
    ["dense", DENSE],
    ["MoE", MOE],
  ] as const) {
    it(`gives identical loss and gradients (${name})`, () => {
      const [plain, ckpt] = pair(config);
      const [inputs, targets] = batch(2, 16, 32);
      const before = tf.memory().numTensors;
      const a = gradients(plain, inputs, targets);
      const b = gradients(ckpt, inputs, targets);
      expect(tf.memory().numTensors).toBe(before);
      expect(b.loss).toBe(a.loss);
      expect(b.grads.size).toBe(a.grads.size);
      for (const [n, g] of a.grads) {
        const h = b.grads.get(n)!;
        let worst = 0;
        let scale = 0;
        for (let i = 0; i < g.length; i++) {
          worst = Math.max(worst, Math.abs(g[i] - h[i]));
          scale = Math.max(scale, Math.abs(g[i]));
        }
        expect(scale, `${n} has a gradient`).toBeGreaterThan(0);
        expect(worst, n).toBeLessThanOrEqual(1e-6 * scale);
      }
      tf.dispose([inputs, targets]);
      plain.dispose();
      ckpt.dispose();
    });
  }

  it("lowers the peak tensor memory of a training step", async () => {
    const [plain, ckpt] = pair({ ...DENSE, nLayers: 6 });
    const [inputs, targets] = batch(4, 32, 32);
    const before = tf.memory().numTensors;
    const a = await stepMemory(plain, inputs, targets);
    const b = await stepMemory(ckpt, inputs, targets);
    expect(tf.memory().numTensors).toBe(before);
    expect(b.loss).toBe(a.loss);
    expect(b.peakBytes).toBeGreaterThan(0);
    expect(b.peakBytes).toBeLessThan(0.7 * a.peakBytes);
    tf.dispose([inputs, targets]);
    plain.dispose();
    ckpt.dispose();
  });

  it("leaves eval forward and routing outputs unchanged", () => {
    const [plain, ckpt] = pair(MOE);
    const [inputs] = batch(2, 8, 32);
    const a = plain.forward(inputs);
    const b = ckpt.forward(inputs);
    expect(Array.from(b.logits.dataSync())).toEqual(Array.from(a.logits.dataSync()));
    expect(b.auxLoss.dataSync()[0]).toBe(a.auxLoss.dataSync()[0]);
    expect(Array.from(b.indices[0].dataSync())).toEqual(Array.from(a.indices[0].dataSync()));
    expect(Array.from(b.loads[0].dataSync())).toEqual(Array.from(a.loads[0].dataSync()));
    tf.dispose([a, b, inputs] as unknown as tf.Tensor[]);
    plain.dispose();
    ckpt.dispose();
  });

  it("checkpointTradeoff measures both sides on the same weights and batches", async () => {
    const before = tf.memory().numTensors;
    const batches = () => {
      const [inputs, targets] = batch(2, 16, 32);
      return { inputs, targets };
    };
    const r = await checkpointTradeoff(DENSE, batches, 2, 1, 5);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.checkpointed.loss).toBe(r.plain.loss);
    expect(r.checkpointed.peakBytes).toBeLessThan(r.plain.peakBytes);
    for (const side of [r.plain, r.checkpointed]) expect(side.msPerStep).toBeGreaterThan(0);
    await expect(checkpointTradeoff(DENSE, batches, 2, 0)).rejects.toThrow(/rounds must be an integer/);
  });

  it("rejects a non-boolean flag by name", () => {
    expect(() => lmConfig({ checkpoint: 1 as unknown as boolean })).toThrow(/checkpoint must be a boolean/);
  });
});
