// DeepSeek checkpoints made by our PyTorch port of DeepSeek-V3's inference/model.py (scripts/deepseek_reference.py:
// tiny V3-shaped model, MLA with q-LoRA, grouped sigmoid MoE with correction bias and route scale, 1 dense layer,
// YaRN on) load in both layouts and all three dtypes and reproduce its logits and expert choices (and, with its MTP
// layer, the MTP module's logits); cached decode equals
// the full forward; save → load round trips; bad checkpoints are named errors with nothing loaded.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { lmConfig, loadDeepSeek, saveDeepSeek, TransformerLM } from "../../lib/model";
import { seed } from "../../lib/random";
import { loadSafetensors, saveSafetensors } from "../../lib/train/safetensors";

const FIXTURE = path.join(__dirname, "..", "fixtures", "deepseek-tiny");
const PYTHON = "/usr/bin/python3";
interface Reference {
  tokens: number[][];
  dtypes: Record<string, { logits: number[]; shape: number[]; indices: number[][][] }>;
  /** MTP module 1 of hf-f32-mtp: logits [B, T − 1, V] of token i + 2 and its MoE block's expert choices. */
  mtp: { logits: number[]; shape: number[]; indices: number[][] };
}
const REF = JSON.parse(readFileSync(path.join(FIXTURE, "reference.json"), "utf8")) as Reference;
const TMP = mkdtempSync(path.join(tmpdir(), "moelab-deepseek-"));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** Both computations are float32 on the same (dequantised) weights; the bound is float32 noise over 3 layers. */
const TOLERANCE: Record<string, number> = { f32: 2e-5, bf16: 2e-5, f8: 2e-5 };

function logitsOf(model: TransformerLM, tokens: number[][]): { logits: Float32Array; indices: number[][][] } {
  return tf.tidy(() => {
    const out = model.forward(tf.tensor2d(tokens, undefined, "int32"));
    return {
      logits: out.logits.dataSync() as Float32Array,
      indices: out.indices.map((t) => t.arraySync() as number[][]),
    };
  });
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("DeepSeek checkpoints", () => {
  for (const dtype of ["f32", "bf16", "f8"]) {
    for (const format of ["hf", "inference"]) {
      it(`${format}-${dtype} loads and reproduces the reference logits and expert indices (naive and absorbed MLA)`, async () => {
        const before = tf.memory().numTensors;
        const ref = REF.dtypes[dtype];
        for (const mla of ["naive", "absorbed"] as const) {
          const model = await loadDeepSeek(path.join(FIXTURE, `${format}-${dtype}`), { mla });
          expect(model.config.mla.path).toBe(mla);
          expect(model.moeLayers().every((l) => l.gate.bias !== null)).toBe(true); // the checkpoint holds the bias
          const { logits, indices } = logitsOf(model, REF.tokens);
          expect(maxDiff(logits, ref.logits)).toBeLessThan(TOLERANCE[dtype]);
          expect(indices).toEqual(ref.indices);
          model.dispose();
        }
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  it("hf-f32-mtp: the MTP layer loads as MTP module 1 and reproduces the reference's MTP logits and expert choices", async () => {
    const before = tf.memory().numTensors;
    for (const mla of ["naive", "absorbed"] as const) {
      const model = await loadDeepSeek(path.join(FIXTURE, "hf-f32-mtp"), { mla });
      expect(model.config.mtpDepth).toBe(1);
      expect(maxDiff(logitsOf(model, REF.tokens).logits, REF.dtypes.f32.logits)).toBeLessThan(TOLERANCE.f32); // the main model as before
      const got = tf.tidy(() => {
        const [k1] = model.mtpLogits(tf.tensor2d(REF.tokens, undefined, "int32"));
        expect(k1.logits.shape).toEqual(REF.mtp.shape);
        return { logits: k1.logits.dataSync() as Float32Array, indices: k1.indices!.arraySync() as number[][] };
      });
      expect(maxDiff(got.logits, REF.mtp.logits)).toBeLessThan(TOLERANCE.f32);
      expect(got.indices).toEqual(REF.mtp.indices);
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(!existsSync(PYTHON))("the shipped fixture is what scripts/deepseek_reference.py writes", () => {
    const out = path.join(TMP, "regenerated");
    const script = path.join(__dirname, "..", "..", "scripts", "deepseek_reference.py");
    const r = spawnSync(PYTHON, [script, out], {
      encoding: "utf8",
      env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
    });
    expect(r.status, r.stderr).toBe(0);
    const files = (dir: string): string[] =>
      readdirSync(dir, { recursive: true, encoding: "utf8" })
        .filter((f) => f.includes("."))
        .sort();
    expect(files(out)).toEqual(files(FIXTURE));
    // Weights and configs byte for byte; the logits to float32 noise (another CPU may sum in another order).
    for (const f of files(FIXTURE).filter((f) => f !== "reference.json"))
      expect(readFileSync(path.join(out, f)).equals(readFileSync(path.join(FIXTURE, f))), f).toBe(true);
    const again = JSON.parse(readFileSync(path.join(out, "reference.json"), "utf8")) as Reference;
    expect(again.tokens).toEqual(REF.tokens);
    for (const d of Object.keys(REF.dtypes)) {
      expect(again.dtypes[d].indices).toEqual(REF.dtypes[d].indices);
      expect(maxDiff(again.dtypes[d].logits, REF.dtypes[d].logits)).toBeLessThan(1e-5);
    }
    expect(again.mtp.indices).toEqual(REF.mtp.indices);
    expect(maxDiff(again.mtp.logits, REF.mtp.logits)).toBeLessThan(1e-5);
  });

  it("the three dtypes really differ (the test would see a wrong dequantisation)", () => {
    expect(maxDiff(REF.dtypes.f32.logits, REF.dtypes.bf16.logits)).toBeGreaterThan(1e-3);
    expect(maxDiff(REF.dtypes.f32.logits, REF.dtypes.f8.logits)).toBeGreaterThan(1e-2);
  });

  it("cached decode equals the full forward on the loaded model (both MLA paths)", async () => {
    for (const mla of ["naive", "absorbed"] as const) {
      const model = await loadDeepSeek(path.join(FIXTURE, "hf-f8"), { mla });
      const full = logitsOf(model, REF.tokens).logits;
      const [B, T] = [REF.tokens.length, REF.tokens[0].length];
      const V = model.config.vocabSize;
      const cache = model.newCache();
      const steps = [
        REF.tokens.map((r) => r.slice(0, 3)),
        ...Array.from({ length: T - 3 }, (_, i) => REF.tokens.map((r) => [r[3 + i]])),
      ];
      let t0 = 0;
      for (const step of steps) {
        const cached = tf.tidy(
          () => model.forward(tf.tensor2d(step, undefined, "int32"), cache).logits.dataSync() as Float32Array,
        );
        const n = step[0].length;
        for (let b = 0; b < B; b++) {
          const want = full.subarray((b * T + t0) * V, (b * T + t0 + n) * V);
          const have = cached.subarray(b * n * V, (b + 1) * n * V);
          expect(maxDiff(have, want)).toBeLessThan(1e-4);
        }
        t0 += n;
      }
      expect(cache.length).toBe(T);
      cache.dispose();
      model.dispose();
    }
  });

  it("save → load round trips in both formats: float32 exactly, bfloat16 to the reference's bf16 checkpoint", async () => {
    const before = tf.memory().numTensors;
    const model = await loadDeepSeek(path.join(FIXTURE, "inference-f32"));
    const want = logitsOf(model, REF.tokens).logits;
    for (const [format, shards] of [
      ["hf", 1],
      ["hf", 3],
      ["inference", 1],
    ] as const) {
      const dir = path.join(TMP, `rt-${format}-${shards}`);
      await saveDeepSeek(model, dir, { format, dtype: "float32", shards });
      if (shards > 1) {
        const index = JSON.parse(readFileSync(path.join(dir, "model.safetensors.index.json"), "utf8"));
        expect(new Set(Object.values(index.weight_map)).size).toBe(3);
        expect(index.weight_map["model.layers.1.mlp.gate.e_score_correction_bias"]).toMatch(
          /^model-0000[1-3]-of-00003\.safetensors$/,
        );
      }
      const back = await loadDeepSeek(dir);
      expect(maxDiff(logitsOf(back, REF.tokens).logits, want)).toBe(0);
      back.dispose();
      const bfDir = path.join(TMP, `rt-${format}-${shards}-bf16`);
      await saveDeepSeek(model, bfDir, { format, dtype: "bfloat16", shards });
      const bf = await loadDeepSeek(bfDir, { mla: "absorbed" });
      expect(maxDiff(logitsOf(bf, REF.tokens).logits, REF.dtypes.bf16.logits)).toBeLessThan(TOLERANCE.bf16);
      bf.dispose();
    }
    const f16Dir = path.join(TMP, "rt-f16");
    await saveDeepSeek(model, f16Dir, { dtype: "float16" });
    const f16 = loadSafetensors(path.join(f16Dir, "model.safetensors"));
    expect(new Set(f16.dtypes.values())).toEqual(new Set(["F16", "F32"])); // F32: the gate biases only
    tf.dispose([...f16.tensors.values()]);
    const half = await loadDeepSeek(f16Dir);
    expect(maxDiff(logitsOf(half, REF.tokens).logits, want)).toBeLessThan(1e-2); // fp16 keeps 11 significant bits
    half.dispose();
    // The reference's inference config and ours describe the same model.
    const ours = JSON.parse(readFileSync(path.join(TMP, "rt-inference-1", "config.json"), "utf8"));
    const theirs = JSON.parse(readFileSync(path.join(FIXTURE, "inference-f32", "config.json"), "utf8"));
    for (const key of Object.keys(ours)) if (key !== "dtype") expect(ours[key], key).toEqual(theirs[key]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("saves DeepSeek's FP8 layout (E4M3 + amax/448 block scales) with the same codes and scales as the reference", async () => {
    const before = tf.memory().numTensors;
    const model = await loadDeepSeek(path.join(FIXTURE, "hf-f32"));
    for (const format of ["hf", "inference"] as const) {
      const dir = path.join(TMP, `fp8-${format}`);
      await saveDeepSeek(model, dir, { format, dtype: "fp8", shards: format === "hf" ? 2 : 1 });
      const read = (d: string) => {
        const files = readdirSync(d)
          .filter((f) => f.endsWith(".safetensors"))
          .map((f) => loadSafetensors(path.join(d, f)));
        return {
          tensors: new Map(files.flatMap((f) => [...f.tensors])),
          dtypes: new Map(files.flatMap((f) => [...f.dtypes])),
        };
      };
      const ours = read(dir);
      const theirs = read(path.join(FIXTURE, `${format}-f8`));
      expect([...ours.tensors.keys()].sort()).toEqual([...theirs.tensors.keys()].sort());
      for (const [name, t] of theirs.tensors) {
        expect(ours.dtypes.get(name), name).toBe(theirs.dtypes.get(name));
        expect(maxDiff(ours.tensors.get(name)!.dataSync(), t.dataSync()), name).toBe(0);
      }
      tf.dispose([...ours.tensors.values(), ...theirs.tensors.values()]);
      const back = await loadDeepSeek(dir, { mla: "absorbed" });
      expect(maxDiff(logitsOf(back, REF.tokens).logits, REF.dtypes.f8.logits)).toBeLessThan(TOLERANCE.f8);
      back.dispose();
    }
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("reads and writes inference checkpoints split over model-parallel ranks exactly as convert.py splits them", async () => {
    const before = tf.memory().numTensors;
    const model = await loadDeepSeek(path.join(FIXTURE, "inference-bf16-mp2"), { mla: "absorbed" });
    expect(maxDiff(logitsOf(model, REF.tokens).logits, REF.dtypes.bf16.logits)).toBeLessThan(TOLERANCE.bf16);
    const dir = path.join(TMP, "mp2");
    await saveDeepSeek(model, dir, { format: "inference", dtype: "bfloat16", mp: 2 });
    for (const r of [0, 1]) {
      const ours = loadSafetensors(path.join(dir, `model${r}-mp2.safetensors`));
      const theirs = loadSafetensors(path.join(FIXTURE, "inference-bf16-mp2", `model${r}-mp2.safetensors`));
      expect([...ours.tensors.keys()].sort()).toEqual([...theirs.tensors.keys()].sort());
      for (const [name, t] of theirs.tensors) {
        expect(ours.dtypes.get(name), name).toBe(theirs.dtypes.get(name));
        expect(ours.tensors.get(name)!.shape, name).toEqual(t.shape);
        expect(maxDiff(ours.tensors.get(name)!.dataSync(), t.dataSync()), name).toBe(0);
      }
      tf.dispose([...ours.tensors.values(), ...theirs.tensors.values()]);
    }
    await expect(saveDeepSeek(model, path.join(TMP, "mp3"), { format: "inference", mp: 3 })).rejects.toThrow(
      "saveDeepSeek(model, dir): options.mp (3) must divide the number of routed experts 8",
    );
    await expect(saveDeepSeek(model, path.join(TMP, "mp4"), { format: "hf", mp: 2 })).rejects.toThrow(
      "options.mp must be a positive integer (1 for the hf format), got 2",
    );
    model.dispose();
    rmSync(path.join(dir, "model1-mp2.safetensors"));
    await expect(loadDeepSeek(dir)).rejects.toThrow(
      "must hold model0-mp2 … model1-mp2.safetensors and no other ranks (missing model1-mp2.safetensors)",
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  /** A copy of the inference-f32 fixture whose tensors `edit` changes. */
  function badCheckpoint(name: string, edit: (t: Map<string, tf.Tensor>) => void, from = "inference-f32"): string {
    const dir = path.join(TMP, name);
    cpSync(path.join(FIXTURE, from), dir, { recursive: true });
    const file = readdirSync(dir).find((f) => f.endsWith(".safetensors") && f.startsWith("model0"))!;
    const st = loadSafetensors(path.join(dir, file));
    edit(st.tensors);
    saveSafetensors(
      path.join(dir, file),
      st.tensors,
      st.metadata,
      new Map([...st.dtypes].filter(([k]) => st.tensors.has(k))),
    );
    tf.dispose([...st.tensors.values()]);
    return dir;
  }

  it("names a missing, extra or misshapen tensor, an F8 weight without its scale and a bad config; nothing stays loaded", async () => {
    const drop = (key: string) => (t: Map<string, tf.Tensor>) => {
      t.get(key)!.dispose();
      t.delete(key);
    };
    const cases: [string, string][] = [
      [
        badCheckpoint("missing", drop("layers.1.ffn.experts.3.w2.weight")),
        'missing "layers.1.ffn.experts.3.w2.weight"',
      ],
      [
        badCheckpoint("extra", (t) => t.set("layers.0.attn.extra.weight", tf.zeros([2]))),
        'unexpected "layers.0.attn.extra.weight"',
      ],
      [
        badCheckpoint("misshapen", (t) => {
          t.get("layers.2.attn.wkv_b.weight")!.dispose();
          t.set("layers.2.attn.wkv_b.weight", tf.zeros([32, 15]));
        }),
        'misshapen "layers.2.attn.wkv_b.weight" [32,15] (expected [32,16])',
      ],
      [
        badCheckpoint("noscale", drop("layers.0.ffn.w1.scale"), "inference-f8"),
        'F8_E4M3 tensor "layers.0.ffn.w1.weight" has no block scale "layers.0.ffn.w1.scale"',
      ],
      [
        badCheckpoint(
          "badscale",
          (t) => {
            t.get("layers.0.ffn.w2.scale")!.dispose();
            t.set("layers.0.ffn.w2.scale", tf.ones([1, 1]));
          },
          "inference-f8",
        ),
        'the block scale of "layers.0.ffn.w2.weight" [32,160] must be [1, 2], got [1,1]',
      ],
    ];
    const before = tf.memory().numTensors;
    for (const [dir, message] of cases) await expect(loadDeepSeek(dir)).rejects.toThrow(message);
    // A bias-less checkpoint is a checkpoint without the bias (not an error): its gates have none.
    const nobias = badCheckpoint("nobias", (t) => {
      for (const k of [...t.keys()].filter((k) => k.endsWith("gate.bias"))) drop(k)(t);
    });
    const m = await loadDeepSeek(nobias);
    expect(m.moeLayers().every((l) => l.gate.bias === null)).toBe(true);
    m.dispose();
    const cfgDir = path.join(TMP, "badconfig");
    cpSync(path.join(FIXTURE, "hf-bf16"), cfgDir, { recursive: true });
    const cfg = JSON.parse(readFileSync(path.join(cfgDir, "config.json"), "utf8"));
    writeFileSync(path.join(cfgDir, "config.json"), JSON.stringify({ ...cfg, hidden_size: 48 }));
    await expect(loadDeepSeek(cfgDir)).rejects.toThrow('misshapen "embed.weight" [96,32] (expected [96,48])');
    writeFileSync(path.join(cfgDir, "config.json"), JSON.stringify({ ...cfg, n_experts: 3 }));
    await expect(loadDeepSeek(cfgDir)).rejects.toThrow('unknown Hugging Face DeepseekV2/V3Config field(s) "n_experts"');
    copyFileSync(path.join(FIXTURE, "inference-f32", "config.json"), path.join(cfgDir, "config.json"));
    await expect(loadDeepSeek(cfgDir)).rejects.toThrow(
      "config.json uses inference names but the weights are in the hf layout",
    );
    // An inference checkpoint without config.json (DeepSeek passes configs/config_*.json separately).
    const bare = path.join(TMP, "bare");
    cpSync(path.join(FIXTURE, "inference-bf16"), bare, { recursive: true });
    rmSync(path.join(bare, "config.json"));
    await expect(loadDeepSeek(bare)).rejects.toThrow(
      "config.json not found (pass options.config for an inference checkpoint)",
    );
    const config = JSON.parse(readFileSync(path.join(FIXTURE, "inference-bf16", "config.json"), "utf8"));
    const loaded = await loadDeepSeek(bare, { config });
    expect(maxDiff(logitsOf(loaded, REF.tokens).logits, REF.dtypes.bf16.logits)).toBeLessThan(TOLERANCE.bf16);
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("skips HF multi-token-prediction layers with options.mtp false (as convert.py) and names stray tensors", async () => {
    const dir = path.join(TMP, "mtp");
    cpSync(path.join(FIXTURE, "hf-bf16"), dir, { recursive: true });
    const file = path.join(dir, "model.safetensors");
    const st = loadSafetensors(file);
    st.tensors.set("model.layers.3.eh_proj.weight", tf.zeros([32, 64])); // layer n_layers = the MTP module
    st.tensors.set("model.layers.0.mlp.bogus.weight", tf.zeros([2]));
    saveSafetensors(file, st.tensors, st.metadata, new Map([...st.dtypes]));
    tf.dispose([...st.tensors.values()]);
    const cfg = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8"));
    await expect(loadDeepSeek(dir)).rejects.toThrow(
      'model.safetensors holds "model.layers.0.mlp.bogus.weight", which is not a DeepSeek checkpoint name',
    );
    const again = loadSafetensors(file);
    again.tensors.get("model.layers.0.mlp.bogus.weight")!.dispose();
    again.tensors.delete("model.layers.0.mlp.bogus.weight");
    saveSafetensors(
      file,
      again.tensors,
      again.metadata,
      new Map([...again.dtypes].filter(([k]) => again.tensors.has(k))),
    );
    tf.dispose([...again.tensors.values()]);
    await expect(loadDeepSeek(dir)).rejects.toThrow(
      'the checkpoint does not match its config: unexpected "layers.3.eh_proj.weight"',
    );
    writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...cfg, num_nextn_predict_layers: 1 }));
    // With the MTP layer announced, a load that keeps it needs all of it.
    await expect(loadDeepSeek(dir)).rejects.toThrow(
      /the checkpoint does not match its config: missing "layers\.3\.enorm\.weight", "layers\.3\.hnorm\.weight"/,
    );
    const model = await loadDeepSeek(dir, { mtp: false });
    expect(model.config.mtpDepth).toBe(0);
    expect(maxDiff(logitsOf(model, REF.tokens).logits, REF.dtypes.bf16.logits)).toBeLessThan(TOLERANCE.bf16);
    model.dispose();
  });

  it("saves and loads MTP modules as the HF layer n_layers (V3's layer 61 names, shared embedding and head copied)", async () => {
    const before = tf.memory().numTensors;
    const base = await loadDeepSeek(path.join(FIXTURE, "hf-f32"));
    seed(3);
    const model = new TransformerLM(lmConfig({ ...base.config, mtpDepth: 2 }));
    const own = [...model.stateDict()]
      .filter(([k]) => k.startsWith("mtp."))
      .map(([k, v]) => [k, v.clone()] as [string, tf.Tensor]);
    model.loadStateDict(new Map([...base.stateDict(), ...own])); // the reference's main weights, fresh MTP modules
    tf.dispose(own.map(([, t]) => t));
    base.dispose();
    const tokens = tf.tensor2d(REF.tokens, undefined, "int32");
    const targets = tf.tensor2d(
      REF.tokens.map((row) => [...row.slice(1), 0]),
      undefined,
      "int32",
    );
    const lossOf = (m: TransformerLM) => tf.tidy(() => m.loss(tokens, targets).mtpCe.map((l) => l.dataSync()[0]));
    const want = lossOf(model);
    for (const [name, opts] of [
      ["f32", { dtype: "float32" as const }],
      ["sharded", { dtype: "float32" as const, shards: 3 }],
      ["fp8", { dtype: "fp8" as const }],
    ] as const) {
      const dir = path.join(TMP, `mtp-${name}`);
      await saveDeepSeek(model, dir, opts);
      const config = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8"));
      expect(config.num_nextn_predict_layers).toBe(2);
      const files = readdirSync(dir)
        .filter((f) => f.endsWith(".safetensors"))
        .map((f) => loadSafetensors(path.join(dir, f)));
      const names = files.flatMap((f) => [...f.tensors.keys()]);
      files.forEach((f) => tf.dispose([...f.tensors.values()]));
      const L = model.config.nLayers;
      for (const k of [0, 1]) {
        for (const leaf of [
          "enorm.weight",
          "hnorm.weight",
          "eh_proj.weight",
          "shared_head.norm.weight",
          "shared_head.head.weight",
          "embed_tokens.weight",
          "input_layernorm.weight",
          "self_attn.kv_a_proj_with_mqa.weight",
          "post_attention_layernorm.weight",
          "mlp.gate.weight",
          "mlp.experts.0.gate_proj.weight",
        ]) {
          expect(names, leaf).toContain(`model.layers.${L + k}.${leaf}`);
        }
      }
      const back = await loadDeepSeek(dir);
      expect(back.config.mtpDepth).toBe(2);
      const got = lossOf(back);
      got.forEach((l, k) =>
        expect(Math.abs(l - want[k]), `${name} L_${k + 1}`).toBeLessThan(name === "fp8" ? 5e-2 : 1e-6),
      );
      if (name === "f32") {
        for (const [k, v] of model.stateDict())
          expect(maxDiff(back.stateDict().get(k)!.dataSync(), v.dataSync()), k).toBe(0);
        const skipped = await loadDeepSeek(dir, { mtp: false });
        expect(skipped.mtp).toBeNull();
        skipped.dispose();
      }
      back.dispose();
    }
    await expect(saveDeepSeek(model, path.join(TMP, "mtp-inf"), { format: "inference" })).rejects.toThrow(
      'deepSeekConfigJson(config, format): a DeepSeek inference config needs mtpDepth 0, got 2: DeepSeek\'s convert.py drops the MTP layer (model.layers.{n_layers}), so the inference format has none; save as "hf"',
    );
    // The copies of the shared embedding must equal it: the lab shares one matrix.
    const dir = path.join(TMP, "mtp-f32");
    const file = path.join(dir, "model.safetensors");
    const st = loadSafetensors(file);
    const name = `model.layers.${model.config.nLayers}.embed_tokens.weight`;
    const changed = tf.add(st.tensors.get(name)!, 1);
    st.tensors.get(name)!.dispose();
    st.tensors.set(name, changed);
    saveSafetensors(file, st.tensors, st.metadata, st.dtypes);
    tf.dispose([...st.tensors.values()]);
    await expect(loadDeepSeek(dir)).rejects.toThrow(
      `loadDeepSeek(dir): "layers.${model.config.nLayers}.embed.weight" differs from "embed.weight"`,
    );
    tf.dispose([tokens, targets]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
