// lab.adapt LoRA/QLoRA: identity at initialisation, merge/unmerge, gradients only on the adapter (finite differences),
// PEFT-layout save/load bit for bit, QLoRA = dequantise-then-LoRA, named errors, no tensor leaks — on dense, MoE
// (routed experts + shared experts) and MLA models.
import { beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { expectDirectionalGradients, randomTokens } from "../helpers/tensors";
import { selectBackend } from "../../lib/backend-select";
import { Rng, seed } from "../../lib/random";
import { LMConfig, TransformerLM } from "../../lib/model";
import { fit } from "../../lib/train/fit";
import { loadSafetensors } from "../../lib/train/safetensors";
import { quantize } from "../../lib/quant/quantized-tensor";
import { PER_CHANNEL } from "../../lib/quant/granularity";
import {
  LoraAdapter,
  adaptableModules,
  applyLora,
  loadAdapter,
  loraParamCount,
  matchesTarget,
  saveAdapter,
  trainingFootprint,
} from "../../lib/adapt";

beforeAll(async () => {
  await selectBackend();
});

const TINY: Partial<LMConfig> = { vocabSize: 16, dim: 16, nLayers: 2, nHeads: 4, contextLen: 24, ffnHidden: 24 };
const MODELS: [string, Partial<LMConfig>, string[] | string][] = [
  ["dense", TINY, ["attn.wqkv", "attn.wo", "ffn.w1", "ffn.w2", "ffn.w3"]],
  [
    "MoE",
    { ...TINY, ffn: "moe", nDenseLayers: 1, moe: { nRouted: 4, nShared: 1, topK: 2 } },
    ["wqkv", "wo", "ffn.experts.w1", "ffn.experts.w2", "ffn.experts.w3", "shared.w1", "shared.w2", "shared.w3"],
  ],
  [
    "MLA",
    {
      ...TINY,
      attention: "mla",
      mla: { qLoraRank: 5, kvLoraRank: 6, qkNopeHeadDim: 4, qkRopeHeadDim: 4, vHeadDim: 3 },
    },
    ".*attn\\.(wq_a|wq_b|wkv_a|wkv_b|wo)",
  ],
];

function build(cfg: Partial<LMConfig>, s = 3): TransformerLM {
  seed(s);
  return new TransformerLM(cfg);
}

/** Sets every adapter parameter (B included) to random values, so the update is not zero. */
function randomizeAdapter(adapter: LoraAdapter, rng: Rng, std = 0.3): void {
  for (const v of adapter.namedParameters().values()) {
    v.assign(
      tf.tensor(
        Array.from({ length: v.size }, () => std * rng.normal()),
        v.shape,
      ),
    );
  }
}

function logits(model: TransformerLM, x: tf.Tensor2D): Float32Array {
  return tf.tidy(() => model.apply(x).dataSync() as Float32Array);
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let m = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return m / Math.max(s, 1e-12);
}

describe.each(MODELS)("LoRA on a %s model", (kind, cfg, targets) => {
  it("finds the targets; B = 0 at initialisation gives the base model's outputs exactly; only the adapter is trainable", () => {
    const model = build(cfg);
    const x = randomTokens(new Rng(1), 2, 8, 16);
    const before = logits(model, x);
    const n0 = tf.memory().numTensors;
    const adapter = applyLora(model, { r: 2, alpha: 4, targetModules: targets });
    expect(adapter.targets.length).toBeGreaterThan(0);
    for (const t of adapter.targets) expect(matchesTarget(t, targets)).toBe(true);
    if (kind === "MoE") expect(adapter.targets).toContain("layers.1.ffn.experts.w2");
    if (kind === "MLA")
      expect(adapter.targets).toEqual([
        "layers.0.attn.wq_a",
        "layers.0.attn.wq_b",
        "layers.0.attn.wkv_a",
        "layers.0.attn.wkv_b",
        "layers.0.attn.wo",
        "layers.1.attn.wq_a",
        "layers.1.attn.wq_b",
        "layers.1.attn.wkv_a",
        "layers.1.attn.wkv_b",
        "layers.1.attn.wo",
      ]);
    expect(logits(model, x)).toEqual(before);
    expect(model.trainableVariables()).toEqual([]);
    expect(adapter.trainableVariables().length).toBe(2 * adapter.targets.length);
    // r·(in + out) per Linear target, E·r·(in + out) per stacked expert projection
    const shapes = adapter.targets.flatMap((t) => {
      const a = adapter.adapterOf(t);
      const [outF, inF] = [
        a.lora_B.weight.shape[a.lora_B.weight.rank - 2],
        a.lora_A.weight.shape[a.lora_A.weight.rank - 1],
      ];
      const copies = a.lora_A.weight.rank === 3 ? a.lora_A.weight.shape[0] : 1;
      return Array.from({ length: copies }, () => [outF, inF] as [number, number]);
    });
    const fp = trainingFootprint(model, adapter);
    expect(fp.trainableParams).toBe(loraParamCount(shapes, 2));
    expect(fp.totalParams).toBe(model.numParams() + fp.trainableParams);
    expect(fp.optimizerBytes).toBe(8 * fp.trainableParams);
    adapter.remove();
    expect(tf.memory().numTensors).toBe(n0);
    expect(model.trainableVariables().length).toBe([...model.namedParameters().values()].length);
    expect(logits(model, x)).toEqual(before);
    model.dispose();
    x.dispose();
  });

  it("merge then unmerge is the identity; the merged model equals the adapted one", () => {
    const model = build(cfg);
    const x = randomTokens(new Rng(2), 2, 8, 16);
    const weights = new Map([...model.namedParameters()].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]));
    const adapter = applyLora(model, { r: 3, alpha: 6, targetModules: targets });
    randomizeAdapter(adapter, new Rng(7));
    const adapted = logits(model, x);
    expect(maxRel(adapted, logits(build(cfg), x))).toBeGreaterThan(1e-3); // the update changes the outputs
    const n0 = tf.memory().numTensors;
    adapter.merge();
    expect(tf.memory().numTensors).toBe(n0);
    expect(maxRel(logits(model, x), adapted)).toBeLessThan(1e-5);
    expect(() => adapter.merge()).toThrow(/already merged/);
    adapter.unmerge();
    for (const [k, v] of model.namedParameters())
      expect(maxRel(v.dataSync() as Float32Array, weights.get(k)!), k).toBeLessThan(1e-6);
    expect(maxRel(logits(model, x), adapted)).toBeLessThan(1e-5);
    expect(() => adapter.unmerge()).toThrow(/not merged/);
    adapter.remove();
    model.dispose();
    x.dispose();
  });

  it("gradients reach only the adapter: finite differences on A and B; a fit step leaves the base bit for bit", async () => {
    // MoE: every expert selected (top-4 of 4), so the objective has no routing jumps for finite differences to straddle
    const model = build(kind === "MoE" ? { ...cfg, moe: { ...cfg.moe, topK: 4 } } : cfg);
    const rng = new Rng(4);
    const x = randomTokens(rng, 2, 6, 16);
    const y = randomTokens(rng, 2, 6, 16);
    const adapter = applyLora(model, { r: 2, alpha: 2, targetModules: targets });
    randomizeAdapter(adapter, new Rng(8), 0.2);
    const objective = () => model.loss(x, y).ce;
    const params = adapter.trainableVariables();
    expect(tf.tidy(() => Object.keys(tf.variableGrads(objective, params).grads).sort())).toEqual(
      params.map((p) => p.name).sort(),
    );
    expectDirectionalGradients(objective, params.slice(0, 6), rng, { minAnalytic: 1e-4, floor: 1e-2 });
    const baseBefore = new Map([...model.namedParameters()].map(([k, v]) => [k, v.dataSync().slice()]));
    const adapterBefore = params.map((p) => p.dataSync().slice());
    const n0 = tf.memory().numTensors;
    await fit({
      module: adapter,
      loss: () => model.stepLoss(x, y),
      batches: () => ({}),
      config: { steps: 2, seed: 0, yieldMs: 1e9 },
    });
    expect(tf.memory().numTensors).toBe(n0);
    for (const [k, v] of model.namedParameters()) expect(v.dataSync(), k).toEqual(baseBefore.get(k));
    expect(params.some((p, i) => maxRel(p.dataSync() as Float32Array, adapterBefore[i] as Float32Array) > 0)).toBe(
      true,
    );
    await expect(
      fit({ module: model, loss: () => model.stepLoss(x, y), batches: () => ({}), config: { steps: 1 } }),
    ).rejects.toThrow(/no trainable variables/);
    adapter.remove();
    model.dispose();
    tf.dispose([x, y]);
  });

  it("a saved adapter (PEFT names, adapter_config.json) reloads onto a fresh base bit for bit", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moelab-adapter-"));
    try {
      const model = build(cfg);
      const x = randomTokens(new Rng(5), 2, 8, 16);
      const adapter = applyLora(model, { r: 2, alpha: 5, targetModules: targets });
      randomizeAdapter(adapter, new Rng(9));
      const adapted = logits(model, x);
      saveAdapter(adapter, dir);
      const config = JSON.parse(fs.readFileSync(path.join(dir, "adapter_config.json"), "utf8"));
      expect(config).toMatchObject({
        peft_type: "LORA",
        r: 2,
        lora_alpha: 5,
        lora_dropout: 0,
        target_modules: targets,
      });
      const file = loadSafetensors(path.join(dir, "adapter_model.safetensors"));
      const first = adapter.targets[0];
      expect([...file.tensors.keys()]).toContain(`base_model.model.${first}.lora_A.weight`);
      expect([...file.tensors.keys()]).toContain(`base_model.model.${first}.lora_B.weight`);
      expect(file.tensors.size).toBe(2 * adapter.targets.length);
      tf.dispose([...file.tensors.values()]);
      const fresh = build(cfg);
      const n0 = tf.memory().numTensors;
      const loaded = loadAdapter(fresh, dir);
      for (const [k, v] of adapter.namedParameters())
        expect(loaded.namedParameters().get(k)!.dataSync(), k).toEqual(v.dataSync());
      expect(logits(fresh, x)).toEqual(adapted);
      loaded.remove();
      expect(tf.memory().numTensors).toBe(n0);
      adapter.remove();
      tf.dispose([x]);
      model.dispose();
      fresh.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(["int4", "nf4"] as const)(
    "QLoRA (%s base): the forward equals dequantise-then-LoRA, and so do its adapter gradients; its weights take less memory",
    (format) => {
      const quant = { format, granularity: PER_CHANNEL }; // d = 16 has no 128-wide groups; per-row scales here
      const q = build(cfg);
      const x = randomTokens(new Rng(6), 2, 8, 16);
      const qa = applyLora(q, { r: 2, alpha: 4, targetModules: targets }, { quantizeBase: quant });
      randomizeAdapter(qa, new Rng(10), 0.2);
      const reference = build(cfg);
      const names = qa.targets;
      const refParams = reference.namedParameters();
      for (const name of names) {
        const a = qa.adapterOf(name);
        const w = refParams.get(`${name}.weight`) ?? refParams.get(name)!;
        w.assign(tf.tensor(quantize(w, { symmetric: true, scaleFormat: "fp16", ...quant }).dequantize(), w.shape));
        expect(a.quantizedBase!.format).toBe(format);
      }
      const ra = applyLora(reference, { r: 2, alpha: 4, targetModules: targets });
      ra.loadStateDict(qa.stateDict());
      expect(maxRel(logits(q, x), logits(reference, x))).toBeLessThan(1e-6);
      const y = randomTokens(new Rng(11), 2, 8, 16);
      const gq = tf.variableGrads(() => q.loss(x, y).ce, qa.trainableVariables()).grads;
      const gr = tf.variableGrads(() => reference.loss(x, y).ce, ra.trainableVariables()).grads;
      const refNames = ra.trainableVariables().map((v) => v.name);
      qa.trainableVariables().forEach((v, i) =>
        expect(
          maxRel(gq[v.name].dataSync() as Float32Array, gr[refNames[i]].dataSync() as Float32Array),
          v.name,
        ).toBeLessThan(1e-5),
      );
      tf.dispose([...Object.values(gq), ...Object.values(gr)]);
      const fp = trainingFootprint(q, qa);
      const plain = build(cfg);
      const full = trainingFootprint(plain);
      expect(full.trainableParams).toBe(plain.numParams());
      expect(fp.weightBytes).toBeLessThan(full.weightBytes);
      expect(fp.totalBytes).toBeLessThan(full.totalBytes);
      plain.dispose();
      expect(() => qa.merge()).toThrow(/quantized base/);
      qa.remove();
      ra.remove();
      tf.dispose([x, y]);
      q.dispose();
      reference.dispose();
    },
  );
});

describe("LoRA details and bad input", () => {
  it("matchesTarget: suffixes on dot boundaries, or one regular expression over the whole name (PEFT)", () => {
    expect(matchesTarget("layers.0.attn.wqkv", ["wqkv"])).toBe(true);
    expect(matchesTarget("layers.0.attn.wqkv", ["attn.wqkv"])).toBe(true);
    expect(matchesTarget("layers.0.attn.wqkv", ["qkv"])).toBe(false);
    expect(matchesTarget("layers.0.attn.wo", ".*\\.wo")).toBe(true);
    expect(matchesTarget("layers.0.attn.wo", "wo")).toBe(false);
  });

  it("names the error: unknown targets, rank ≤ 0, alpha, dropout on experts, an adapter of another shape, double attach", () => {
    const model = build(TINY);
    const n0 = tf.memory().numTensors;
    expect(() => applyLora(model, { targetModules: ["attn.wq"] })).toThrow(
      /targetModules \["attn.wq"\] match no Linear layer.*adaptable names: .*layers.0.attn.wqkv/,
    );
    expect(() => applyLora(model, { targetModules: "nothing.*" })).toThrow(/match no Linear/);
    expect(() => applyLora(model, { r: 0 })).toThrow(/r must be an integer > 0, got 0/);
    expect(() => applyLora(model, { r: -2 })).toThrow(/r must be an integer > 0, got -2/);
    expect(() => applyLora(model, { alpha: 0 })).toThrow(/alpha must be/);
    expect(() => applyLora(model, { dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(tf.memory().numTensors).toBe(n0);
    expect(model.trainableVariables().length).toBe(model.namedParameters().size);
    expect(() => applyLora(model, {}, { quantizeBase: {} })).toThrow(
      /options.quantizeBase cannot quantize "layers.0.attn.wqkv" \[48,16\]: .*group size 128 must be a positive integer dividing the last dimension 16/,
    );
    expect(tf.memory().numTensors).toBe(n0);
    expect(model.trainableVariables().length).toBe(model.namedParameters().size); // untouched: nothing frozen, no hook
    expect(model.namedModules().get("layers.0.attn.wqkv")).toHaveProperty("hook", null);
    const moe = build(MODELS[1][1]);
    expect(() => applyLora(moe, { dropout: 0.1, targetModules: ["experts.w1"] })).toThrow(
      /routed-experts projection.*dropout = 0/,
    );
    const a = applyLora(model, {});
    expect(() => applyLora(model, {})).toThrow(/already has an adapter/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moelab-adapter-"));
    try {
      saveAdapter(a, dir);
      const wider = build({ ...TINY, dim: 24 });
      const n1 = tf.memory().numTensors;
      expect(() => loadAdapter(wider, dir)).toThrow(
        /loadAdapter\(model, dir\): the adapter does not fit this model: "layers.0.attn.wqkv.lora_A.weight" has shape \[8,16\].*needs \[8,24\]/,
      );
      expect(tf.memory().numTensors).toBe(n1);
      expect(wider.trainableVariables().length).toBe(wider.namedParameters().size); // left as it was
      wider.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    a.remove();
    expect(() => a.merge()).toThrow(/removed/);
    model.dispose();
    moe.dispose();
  });

  it("dropout acts in training mode only, and is seeded", () => {
    const model = build(TINY);
    const x = randomTokens(new Rng(3), 2, 8, 16);
    const adapter = applyLora(model, { dropout: 0.5, targetModules: ["wqkv"] });
    randomizeAdapter(adapter, new Rng(1));
    adapter.eval();
    const clean = logits(model, x);
    expect(logits(model, x)).toEqual(clean);
    adapter.train();
    seed(1);
    const d1 = logits(model, x);
    seed(1);
    expect(logits(model, x)).toEqual(d1);
    expect(maxRel(d1, clean)).toBeGreaterThan(1e-3);
    adapter.remove();
    model.dispose();
    x.dispose();
  });

  it('A starts Kaiming-uniform U(±1/√in) (PEFT) or Gaussian N(0, 1/r) (the paper, PEFT\'s "gaussian"); B starts at zero', () => {
    const model = build({ ...TINY, dim: 64, nHeads: 4 });
    const k = applyLora(model, { r: 4, targetModules: ["wqkv"] });
    const a = k.adapterOf("layers.0.attn.wqkv");
    const av = a.lora_A.weight.dataSync();
    expect(Math.max(...av.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
    expect(Math.max(...av.map(Math.abs))).toBeGreaterThan(0.9 / 8);
    expect(a.lora_B.weight.dataSync().every((v) => v === 0)).toBe(true);
    k.remove();
    const g = applyLora(model, { r: 4, init: "gaussian", targetModules: ["wqkv"] });
    const gv = g.adapterOf("layers.0.attn.wqkv").lora_A.weight.dataSync();
    const std = Math.sqrt(gv.reduce((s, v) => s + v * v, 0) / gv.length);
    expect(std).toBeGreaterThan(0.25 * 0.9);
    expect(std).toBeLessThan(0.25 * 1.1);
    g.remove();
    model.dispose();
  });

  it.each([false, true])(
    "MLA's absorbed path (which folds wkv_b's matrix) computes with the adapter too (QLoRA base: %s)",
    (quantized) => {
      const mla = (path: "naive" | "absorbed"): Partial<LMConfig> => ({
        ...TINY,
        attention: "mla",
        mla: { ...(MODELS[2][1].mla as object), path },
      });
      const x = randomTokens(new Rng(12), 2, 8, 16);
      const out = (path: "naive" | "absorbed") => {
        const model = build(mla(path));
        const a = applyLora(
          model,
          { r: 2, targetModules: ["wkv_b", "wo"] },
          { quantizeBase: quantized ? { granularity: PER_CHANNEL } : null },
        );
        randomizeAdapter(a, new Rng(13));
        const y = logits(model, x);
        a.remove();
        model.dispose();
        return y;
      };
      const plainModel = build(mla("naive"));
      const plain = logits(plainModel, x);
      plainModel.dispose();
      const naive = out("naive");
      expect(maxRel(naive, plain)).toBeGreaterThan(1e-3);
      expect(maxRel(out("absorbed"), naive)).toBeLessThan(1e-4);
      x.dispose();
    },
  );

  it("adaptableModules lists Linear layers and stacked expert projections", () => {
    const moe = build(MODELS[1][1]);
    const names = [...adaptableModules(moe).keys()];
    expect(names).toContain("layers.1.ffn.experts.w3");
    expect(names).toContain("layers.1.ffn.shared.w1");
    expect(names).toContain("layers.0.ffn.w2");
    moe.dispose();
  });
});
