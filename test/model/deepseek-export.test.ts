// The other direction of test/model/deepseek-checkpoint.test.ts: a tiny DeepSeek-V3-shaped model built in the lab (MLA
// with q-LoRA, interleaved RoPE with YaRN, a dense first layer, DeepSeekMoE with V3's grouped sigmoid gate, correction
// bias and route scale), exported with saveDeepSeek in both layouts (HF sharded and single-file, inference) and three
// dtypes, runs in our PyTorch port of DeepSeek-V3's inference/model.py (scripts/deepseek_reference.py --logits, Debian's
// python3-torch) and gives the lab's logits and expert choices. Reference: DeepSeek-V3 inference/model.py, convert.py.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import {
  lmConfig,
  loadDeepSeek,
  saveDeepSeek,
  TransformerLM,
  type LMConfig,
  type SaveDeepSeekOptions,
} from "../../lib/model";
import { seed } from "../../lib/random";

const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(__dirname, "..", "..", "scripts", "deepseek_reference.py");
const HAS_TORCH = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import torch"]).status === 0;
const SKIPPED = HAS_TORCH ? "" : " [skipped: /usr/bin/python3 cannot import torch; apt-get install python3-torch]";
const TMP = mkdtempSync(path.join(tmpdir(), "moelab-deepseek-export-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** A seed whose routing decisions are clear in every exported dtype (smallest top-k or group margin ≥ 1e-3, checked
 * below), so float32 summation-order noise cannot flip an expert between the lab and PyTorch. */
const SEED = 0;
const TOKENS = [
  [3, 17, 42, 5, 88, 61, 0, 95],
  [71, 2, 33, 33, 9, 50, 14, 27],
];
/** The exports: name → saveDeepSeek options. */
const EXPORTS: Record<string, Partial<SaveDeepSeekOptions>> = {
  "hf-f32": { format: "hf", dtype: "float32", shards: 2 },
  "inference-f32": { format: "inference", dtype: "float32" },
  "hf-bf16": { format: "hf", dtype: "bfloat16" },
  "inference-bf16": { format: "inference", dtype: "bfloat16" },
  "hf-fp8": { format: "hf", dtype: "fp8" },
  "inference-fp8": { format: "inference", dtype: "fp8" },
};
/** Both sides compute in float32 on the same stored weights: float32 noise over 3 layers (as deepseek-checkpoint's). */
const SAME_WEIGHTS = 2e-5;
/**
 * Against the lab's own float32 model, BF16 storage rounds every weight by a relative u ≤ 2⁻⁹. About ten roundings
 * lie in series on a logit's path (embedding, the norms, q/kv/o, the gate, the FFN or expert matrices, the head), and
 * the reference's own tiny model moves by 2.0% of its largest logit between its f32 and bf16 checkpoints
 * (test/fixtures/deepseek-tiny/reference.json) ≈ 10·u; we allow 16·u·max|logit|. FP8 (E4M3, u = 2⁻⁴ of a block's
 * largest weight) flips experts, so an FP8 export is compared on its stored weights only.
 */
const ROUNDING: Record<string, number> = { f32: 0, bf16: 16 * 2 ** -9 };

interface TorchResult {
  logits: number[];
  shape: number[];
  indices: number[][][];
  routing_margin: number;
  naive_absorb_max_diff: number;
}

/** The tiny V3-shaped model (the sizes of scripts/deepseek_reference.py's ModelArgs), weights from `s`; RMSNorm
 * weights and gate biases are drawn away from 1 and 0 so a dropped or misnamed one changes the logits. */
function v3Tiny(s: number): TransformerLM {
  const config = lmConfig({
    vocabSize: 96,
    dim: 32,
    nLayers: 3,
    nHeads: 2,
    contextLen: 1024,
    ffnHidden: 160,
    ffn: "moe",
    nDenseLayers: 1,
    moe: {
      nRouted: 8,
      nShared: 1,
      topK: 2,
      expertHidden: 16,
      scoreFunc: "sigmoid",
      nGroups: 4,
      topkGroups: 2,
      routeScale: 2.5,
      balance: "auxfree",
    },
    attention: "mla",
    mla: { qLoraRank: 24, kvLoraRank: 16, qkNopeHeadDim: 8, qkRopeHeadDim: 8, vHeadDim: 8 },
    ropeLayout: "interleaved",
    ropeScaling: {
      factor: 4,
      originalMaxPositionEmbeddings: 256,
      betaFast: 32,
      betaSlow: 1,
      mscale: 1,
      mscaleAllDim: 1,
    },
    normEps: 1e-6,
    tiedHead: false,
    initStd: 0.2,
  });
  seed(s);
  const model = new TransformerLM(config);
  const state = new Map<string, tf.Tensor>();
  [...model.stateDict()].forEach(([name, v], i) => {
    const noise = () => tf.randomNormal(v.shape, 0, 0.1, "float32", s * 997 + i);
    if (name.endsWith("norm.weight"))
      state.set(
        name,
        tf.tidy(() => tf.add(1, noise())),
      );
    else if (name.endsWith("gate.bias")) state.set(name, noise());
    else state.set(name, v.clone());
  });
  model.loadStateDict(state);
  tf.dispose([...state.values()]);
  return model;
}

function labForward(model: TransformerLM): { logits: Float32Array; indices: number[][][] } {
  return tf.tidy(() => {
    const out = model.forward(tf.tensor2d(TOKENS, undefined, "int32"));
    return {
      logits: out.logits.dataSync() as Float32Array,
      indices: out.indices.map((t) => t.arraySync() as number[][]),
    };
  });
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** The reference's logits of each directory, in one python3 process. */
function torchLogits(dirs: string[]): Record<string, TorchResult> {
  const r = spawnSync(PYTHON, [SCRIPT, "--logits", ...dirs, "--tokens", JSON.stringify(TOKENS)], {
    encoding: "utf8",
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
    maxBuffer: 1 << 26,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, TorchResult>;
}

describe("saveDeepSeek exports run in the PyTorch port of DeepSeek-V3's inference/model.py", () => {
  it.skipIf(!HAS_TORCH)(
    `HF (sharded, single file) and inference layouts in F32, BF16 and FP8 give the lab's logits and experts${SKIPPED}`,
    async () => {
      const before = tf.memory().numTensors;
      const model = v3Tiny(SEED);
      const lab = labForward(model);
      const dirs = Object.keys(EXPORTS).map((name) => path.join(TMP, name));
      for (const [name, opts] of Object.entries(EXPORTS)) await saveDeepSeek(model, path.join(TMP, name), opts);
      const torch = torchLogits(dirs);
      const scale = lab.logits.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(scale).toBeGreaterThan(0.5); // logits of order 1: the absolute tolerances below mean something
      const errors: Record<string, number> = {};
      for (const name of Object.keys(EXPORTS)) {
        const ref = torch[path.join(TMP, name)];
        const dtype = name.split("-")[1];
        expect(ref.shape, name).toEqual([2, 8, 96]);
        expect(ref.routing_margin, `${name}: a routing near-tie; pick another SEED`).toBeGreaterThan(1e-3);
        expect(ref.naive_absorb_max_diff, name).toBeLessThan(1e-4);
        // The same stored weights in the lab (its own loader) and in PyTorch: float32 noise.
        const back = await loadDeepSeek(path.join(TMP, name));
        const stored = labForward(back);
        back.dispose();
        expect(maxAbs(stored.logits, ref.logits), `${name} vs the lab on the stored weights`).toBeLessThan(
          SAME_WEIGHTS,
        );
        expect(stored.indices, name).toEqual(ref.indices);
        errors[name] = maxAbs(lab.logits, ref.logits);
        if (dtype === "fp8") continue;
        // Against the lab's float32 model: the stored dtype's rounding, and the same experts.
        const bound = Math.max(SAME_WEIGHTS, ROUNDING[dtype] * scale);
        expect(errors[name], `${name} vs the lab's float32 model`).toBeLessThan(bound);
        expect(ref.indices, name).toEqual(lab.indices);
      }
      // The dtypes really are stored rounded: F32 exact to noise, BF16 visibly off, FP8 further.
      expect(errors["hf-f32"]).toBeLessThan(SAME_WEIGHTS);
      expect(errors["inference-f32"]).toBeLessThan(SAME_WEIGHTS);
      expect(errors["hf-bf16"]).toBeGreaterThan(10 * SAME_WEIGHTS);
      expect(errors["hf-fp8"]).toBeGreaterThan(errors["hf-bf16"]);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
    120_000,
  );

  it.skipIf(!HAS_TORCH)(`the reference refuses a config model.py cannot run, naming it${SKIPPED}`, async () => {
    const model = v3Tiny(SEED);
    const half = new TransformerLM(lmConfig({ ...model.config, ropeLayout: "half" }));
    model.dispose();
    const dir = path.join(TMP, "hf-half");
    await saveDeepSeek(half, dir); // HF can say rope_interleave false; model.py always rotates interleaved pairs
    half.dispose();
    const r = spawnSync(PYTHON, [SCRIPT, "--logits", dir, "--tokens", JSON.stringify(TOKENS)], { encoding: "utf8" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("config.json: model.py cannot run rope_interleave false");
  });

  it("refuses, naming the field, every lab config the format cannot express (docs/checkpoints.md), writing nothing", async () => {
    const before = tf.memory().numTensors;
    const base = v3Tiny(SEED);
    const cases: [string, Partial<LMConfig>, "hf" | "inference", string][] = [
      ["MHA", { attention: "mha" }, "hf", 'attention "mla", got "mha"'],
      ["GQA", { attention: "mha", nHeads: 4, nKVHeads: 2 }, "hf", 'attention "mla", got "mha"'],
      ["MQA", { attention: "mha", nKVHeads: 1 }, "hf", 'attention "mla", got "mha"'],
      ["sparse", { attention: "mha", slidingWindow: 4, globalTokens: 1 }, "hf", 'attention "mla", got "mha"'],
      ["learned positions", { attention: "mha", positions: "learned" }, "hf", 'attention "mla", got "mha"'],
      ["LayerNorm", { norm: "layernorm" }, "hf", 'norm "rmsnorm", got "layernorm"'],
      ["dense FFN", { ffn: "dense" }, "hf", 'ffn "moe", got "dense"'],
      ["tied head", { tiedHead: true }, "hf", "an untied head (tiedHead false)"],
      ["expert choice", { moe: { ...base.config.moe, routing: "expert-choice" } }, "hf", 'moe.routing "token-choice"'],
      [
        "token dropping",
        { moe: { ...base.config.moe, capacityFactor: 1.25 } },
        "hf",
        "moe.capacityFactor null (dropless)",
      ],
      ["MTP (inference)", { mtpDepth: 1 }, "inference", "mtpDepth 0, got 1"],
      ["rotate-half (inference)", { ropeLayout: "half" }, "inference", 'ropeLayout "interleaved", got "half"'],
      [
        "renormalize (inference)",
        { moe: { ...base.config.moe, renormalize: false } },
        "inference",
        "moe.renormalize null (ModelArgs renormalises exactly when score_func is sigmoid)",
      ],
      ["normEps (inference)", { normEps: 1e-5 }, "inference", "normEps 1e-6 (model.py's RMSNorm default), got 0.00001"],
      [
        "two mscales (inference)",
        { ropeScaling: { ...base.config.ropeScaling, mscale: 0.7 } },
        "inference",
        "ropeScaling.mscale = mscaleAllDim (ModelArgs has one mscale)",
      ],
    ];
    for (const [name, change, format, message] of cases) {
      const model = new TransformerLM(lmConfig({ ...base.config, ...change }));
      const dir = path.join(TMP, `refused-${name.replace(/\W+/g, "-")}`);
      await expect(saveDeepSeek(model, dir, { format }), name).rejects.toThrow(
        `deepSeekConfigJson(config, format): a DeepSeek ${format} config needs ${message}`,
      );
      expect(existsSync(dir), name).toBe(false);
      model.dispose();
    }
    // The same settings that only the inference layout lacks are written to HF (MTP layers, rope_interleave false).
    for (const change of [{ mtpDepth: 1 }, { ropeLayout: "half" as const }]) {
      const model = new TransformerLM(lmConfig({ ...base.config, ...change }));
      await saveDeepSeek(model, path.join(TMP, `hf-ok-${Object.keys(change)[0]}`));
      model.dispose();
    }
    base.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
