// Multi-token prediction: parameter counts by hand, depth 0 = the plain model exactly, MTP loss gradients by central
// differences (dense, MoE, checkpointed), speculative decoding = greedy decoding token for token with measured
// acceptance, named errors, no tensor growth.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { expectDirectionalGradients, randomTokens } from "../helpers/tensors";
import { selectBackend } from "../../lib/backend-select";
import { Rng, seed } from "../../lib/random";
import { fit } from "../../lib/train";
import {
  acceptanceRate,
  countParams,
  generate,
  KVCache,
  lmConfig,
  LMConfig,
  mtpParams,
  ropeFor,
  speculativeGenerate,
  TransformerLM,
} from "../../lib/model";

beforeAll(async () => {
  await selectBackend();
});

/** V 16, d 16, 2 layers of 2 heads, context 32, SwiGLU 24. */
const TINY: Partial<LMConfig> = { vocabSize: 16, dim: 16, nLayers: 2, nHeads: 2, contextLen: 32, ffnHidden: 24 };
const TINY_MOE: Partial<LMConfig> = {
  ...TINY,
  ffn: "moe",
  nDenseLayers: 1,
  moe: { nRouted: 4, nShared: 1, topK: 2, expertHidden: 8 },
};

describe("MTP parameter counts", () => {
  it("match a hand count for a tiny dense config and the built models' numParams()", () => {
    // One module: enorm, hnorm, shared_head.norm 3·16; eh_proj 2·16·16; attention 4·16²; two block norms 2·16; SwiGLU 3·16·24.
    const perModule = 3 * 16 + 2 * 16 * 16 + 4 * 16 * 16 + 2 * 16 + 3 * 16 * 24;
    expect(perModule).toBe(2768);
    const main = 16 * 16 + 2 * (4 * 16 * 16 + 3 * 16 * 24 + 2 * 16) + 16;
    const c = countParams(lmConfig({ ...TINY, mtpDepth: 2 }));
    expect(c.mtp).toBe(2 * perModule);
    expect(c.total).toBe(main + 2 * perModule);
    expect(c.active).toBe(main + 2 * perModule);
    expect(mtpParams(lmConfig(TINY), 2)).toEqual({ total: 2 * perModule, active: 2 * perModule, perModule });
    seed(0);
    for (const cfg of [
      { ...TINY, mtpDepth: 2 },
      { ...TINY_MOE, mtpDepth: 1 },
      { ...TINY_MOE, mtpDepth: 1, tiedHead: false, norm: "layernorm" as const },
    ]) {
      const model = new TransformerLM(cfg);
      expect(model.numParams()).toBe(countParams(model.config).total);
      expect(countParams(model.config).mtp).toBe(mtpParams(model.config, cfg.mtpDepth).total);
      model.dispose();
    }
    // MoE last block: the module's FFN is the MoE layer (gate 4·16 + 5 experts 3·16·8), 3 of them active.
    const moe = countParams(lmConfig({ ...TINY_MOE, mtpDepth: 1 }));
    expect(moe.mtp - moe.mtpActive).toBe(2 * 3 * 16 * 8);
  });
});

describe("MTP depth 0 is the plain model", () => {
  it("same parameters and the same loss; depth 1 keeps the main weights and adds λ·L_1", () => {
    const rng = new Rng(3);
    const inputs = randomTokens(rng, 2, 10, 16);
    const targets = randomTokens(rng, 2, 10, 16);
    seed(5);
    const plain = new TransformerLM(TINY);
    seed(5);
    const zero = new TransformerLM({ ...TINY, mtpDepth: 0, mtpLambda: 0.7 });
    seed(5);
    const one = new TransformerLM({ ...TINY, mtpDepth: 1, mtpLambda: 0.5 });
    expect(zero.mtp).toBeNull();
    const a = plain.stateDict();
    const b = zero.stateDict();
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, v] of a) {
      expect(Array.from(b.get(k)!.dataSync())).toEqual(Array.from(v.dataSync()));
      expect(Array.from(one.stateDict().get(k)!.dataSync())).toEqual(Array.from(v.dataSync()));
    }
    const lp = plain.loss(inputs, targets);
    const lz = zero.loss(inputs, targets);
    const lo = one.loss(inputs, targets);
    expect(lz.loss.dataSync()[0]).toBe(lp.loss.dataSync()[0]);
    expect(lz.mtpLoss.dataSync()[0]).toBe(0);
    expect(lz.mtpCe).toHaveLength(0);
    expect(lo.ce.dataSync()[0]).toBe(lp.ce.dataSync()[0]);
    expect(lo.mtpCe).toHaveLength(1);
    const l1 = lo.mtpCe[0].dataSync()[0];
    expect(lo.mtpLoss.dataSync()[0]).toBeCloseTo(0.5 * l1, 6);
    expect(lo.loss.dataSync()[0]).toBeCloseTo(lp.ce.dataSync()[0] + 0.5 * l1, 5);
    const step = zero.stepLoss(inputs, targets);
    expect(Object.keys(step.metrics)).toEqual(["ce", "aux"]);
    const stepMtp = one.stepLoss(inputs, targets);
    expect(Object.keys(stepMtp.metrics)).toEqual(["ce", "aux", "mtp", "mtp.1"]);
    tf.dispose([inputs, targets, lp, lz, lo, step, stepMtp] as unknown as tf.Tensor[]);
    [plain, zero, one].forEach((m) => m.dispose());
  });

  it("L_1 is the cross-entropy of the token two ahead, recomputed from the module's parts", () => {
    seed(7);
    const model = new TransformerLM({ ...TINY, mtpDepth: 1, mtpLambda: 1 });
    const rng = new Rng(8);
    const inputs = randomTokens(rng, 1, 6, 16);
    const targets = randomTokens(rng, 1, 6, 16);
    const l = model.loss(inputs, targets);
    const byHand = tf.tidy(() => {
      // positions i < 5: hidden h_i with the embedding of token i + 1 (inputs[:, 1:]) → predicts targets[:, 1:]
      const { hidden } = model.forwardHidden(inputs);
      const m = model.mtp!.modules[0];
      const emb = model.embed.apply(tf.slice(inputs, [0, 1], [1, 5])) as tf.Tensor3D; // [1, 5, d]
      const h = m.apply(tf.slice(hidden, [0, 0, 0], [1, 5, -1]) as tf.Tensor3D, emb, ropeFor(model.config, 0, 5)).x; // [1, 5, d]
      const lsm = tf
        .logSoftmax(model.headLogits(tf.reshape(m.norm.apply(h), [5, 16]) as tf.Tensor2D))
        .arraySync() as number[][]; // [5, V]
      const t = Array.from(targets.dataSync()).slice(1);
      return -t.reduce((s, id, i) => s + lsm[i][id], 0) / 5;
    });
    expect(l.mtpCe[0].dataSync()[0]).toBeCloseTo(byHand, 5);
    tf.dispose([inputs, targets, l] as unknown as tf.Tensor[]);
    model.dispose();
  });
});

/** Central differences of the MTP loss along a random direction, for every parameter (main model's included). */
function checkMtpGradients(cfg: Partial<LMConfig>, seedValue: number): void {
  seed(seedValue);
  const model = new TransformerLM(cfg);
  const rng = new Rng(seedValue + 1);
  const inputs = randomTokens(rng, 2, 7, 16);
  const targets = randomTokens(rng, 2, 7, 16);
  const objective = () => model.loss(inputs, targets).mtpLoss;
  const names = new Map([...model.stateDict()].map(([k, v]) => [v, k]));
  const params = model.trainableVariables();
  // A step of 0.5% of the parameter's own scale (norm weights are ones, the embedding's rows have std 0.02): enorm
  // normalises the embedding rows, so a fixed step that is small for a projection is large for them; a coarser step
  // leaves the MoE model's differences visibly unconverged (they approach the analytic value as the step shrinks).
  const eps = (p: tf.Variable) => 5e-3 * Math.max(2e-2, Math.sqrt(tf.tidy(() => tf.mean(tf.square(p)).dataSync()[0])));
  const touched = expectDirectionalGradients(objective, params, rng, { eps, name: (p) => names.get(p) ?? p.name });
  expect(touched).toBeGreaterThan(params.length / 2); // the MTP loss reaches the main model and every module
  tf.dispose([inputs, targets]);
  model.dispose();
}

describe("MTP loss gradients", () => {
  it("dense, depth 2: match central differences", () => checkMtpGradients({ ...TINY, mtpDepth: 2, mtpLambda: 1 }, 21));
  // Every expert selected (topK = nRouted): a step cannot flip the routing, which would make the loss jump.
  it("MoE last block, depth 1, untied head: match central differences", () =>
    checkMtpGradients(
      { ...TINY_MOE, moe: { ...TINY_MOE.moe, topK: 4 }, mtpDepth: 1, mtpLambda: 1, tiedHead: false },
      23,
    ));
  it("gradient checkpointing gives the same loss and gradients", () => {
    const rng = new Rng(31);
    const inputs = randomTokens(rng, 2, 8, 16);
    const targets = randomTokens(rng, 2, 8, 16);
    const run = (checkpoint: boolean) => {
      seed(30);
      const model = new TransformerLM({ ...TINY_MOE, mtpDepth: 2, checkpoint });
      const { value, grads } = tf.variableGrads(() => model.loss(inputs, targets).loss, model.trainableVariables());
      const out = { loss: value.dataSync()[0], grads: Object.values(grads).map((g) => Array.from(g.dataSync())) };
      tf.dispose([value, ...Object.values(grads)]);
      model.dispose();
      return out;
    };
    const [plain, ckpt] = [run(false), run(true)];
    expect(ckpt.loss).toBeCloseTo(plain.loss, 6);
    plain.grads.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(ckpt.grads[i][j] - v)).toBeLessThan(1e-5)));
    tf.dispose([inputs, targets]);
  });
});

/** A tiny model trained on a periodic sequence, so the main model and the draft both learn it (high acceptance). */
async function trainedOnCycle(cfg: Partial<LMConfig>): Promise<TransformerLM> {
  seed(41);
  const model = new TransformerLM({ ...cfg, mtpDepth: 1, mtpLambda: 1 });
  const cycle = [3, 1, 4, 1, 5, 9, 2, 6]; // period 8: "1" is followed by 4 or 5, so one token is not enough
  const seq = Array.from({ length: 25 }, (_, i) => cycle[i % 8]);
  const inputs = tf.tensor2d(seq.slice(0, 24), [1, 24], "int32");
  const targets = tf.tensor2d(seq.slice(1, 25), [1, 24], "int32");
  await fit({
    module: model,
    loss: () => model.stepLoss(inputs, targets),
    batches: () => ({}),
    afterStep: (info) => void model.afterStep(info.aux),
    config: {
      steps: 80,
      schedule: { kind: "constant", lr: 1e-2, warmupSteps: 0 },
      optimizer: { weightDecay: 0 },
      clipNorm: null,
    },
  });
  tf.dispose([inputs, targets]);
  return model;
}

describe("speculative decoding with the MTP draft", () => {
  const cases: [string, Partial<LMConfig>][] = [
    ["dense", TINY],
    ["MoE (auxfree gate bias)", { ...TINY_MOE, moe: { ...TINY_MOE.moe, balance: "auxfree" } }],
    [
      "MLA absorbed, untied",
      {
        ...TINY,
        tiedHead: false,
        attention: "mla",
        mla: { kvLoraRank: 8, qkNopeHeadDim: 4, qkRopeHeadDim: 4, vHeadDim: 4, path: "absorbed" },
        ropeLayout: "interleaved",
      },
    ],
    ["learned positions", { ...TINY, positions: "learned" }],
  ];
  for (const [name, cfg] of cases) {
    it(`${name}: equals greedy generation token for token, random and trained weights`, async () => {
      seed(40);
      const random = new TransformerLM({ ...cfg, mtpDepth: 1 });
      const trained = await trainedOnCycle(cfg);
      for (const model of [random, trained]) {
        for (const [prompt, n] of [
          [[3], 20],
          [[3, 1, 4, 1, 5], 27],
          [[7, 7], 1],
        ] as [number[], number][]) {
          const before = tf.memory().numTensors;
          const spec = speculativeGenerate(model, prompt, n);
          expect(tf.memory().numTensors).toBe(before);
          expect(spec.tokens).toEqual(generate(model, prompt, n, { temperature: 0 }));
          expect(spec.forwards).toBe(1 + spec.drafted);
          expect(spec.tokens).toHaveLength(n);
          expect(spec.tokensPerForward).toBeCloseTo(n / spec.forwards, 12);
          if (n === 1) expect(spec.acceptance).toBeNull();
          else expect(spec.acceptance).toBe(spec.accepted / spec.drafted);
          // every forward yields 1 token, plus 1 per accepted draft (the last may overshoot n by one)
          expect(spec.forwards + spec.accepted - n).toBeGreaterThanOrEqual(0);
          expect(spec.forwards + spec.accepted - n).toBeLessThanOrEqual(1);
        }
      }
      const learnt = speculativeGenerate(trained, [3, 1, 4], 28);
      expect(learnt.acceptance!).toBeGreaterThan(0.5); // the draft learnt the cycle: most drafts pass
      expect(learnt.tokensPerForward).toBeGreaterThan(1.4);
      random.dispose();
      trained.dispose();
    });
  }

  it("acceptanceRate is accepted / drafted ∈ [0, 1], from counts", () => {
    expect(acceptanceRate(0, 4)).toBe(0);
    expect(acceptanceRate(3, 4)).toBe(0.75);
    expect(acceptanceRate(4, 4)).toBe(1);
    expect(() => acceptanceRate(5, 4)).toThrow(
      "acceptanceRate(accepted, drafted): accepted must be an integer in [0, drafted = 4], got 5",
    );
    expect(() => acceptanceRate(-1, 4)).toThrow(/accepted must be an integer in \[0, drafted = 4\], got -1/);
    expect(() => acceptanceRate(1.5, 4)).toThrow(/accepted must be an integer/);
    expect(() => acceptanceRate(0, 0)).toThrow(
      /acceptanceRate\(accepted, drafted\): drafted must be a positive integer/,
    );
  });
});

describe("MTP in training", () => {
  it("fit logs the main-token ce and the MTP loss apart; the MTP block's aux-free gate bias moves; no tensor growth", async () => {
    seed(50);
    const model = new TransformerLM({ ...TINY_MOE, mtpDepth: 1, moe: { ...TINY_MOE.moe, balance: "auxfree" } });
    expect(model.mtpMoELayers()).toHaveLength(1);
    const rng = new Rng(51);
    const inputs = randomTokens(rng, 2, 12, 16);
    const targets = randomTokens(rng, 2, 12, 16);
    const bias = () => Array.from(model.mtpMoELayers()[0].gate.bias!.dataSync());
    const before = bias();
    const loads: number[][][] = [];
    const result = await fit({
      module: model,
      loss: () => model.stepLoss(inputs, targets),
      batches: () => ({}),
      afterStep: (info) => void loads.push(model.afterStep(info.aux)),
      config: { steps: 3, schedule: { kind: "constant", lr: 1e-2, warmupSteps: 0 } },
    });
    const m = result.history[0].metrics;
    expect(result.history[0].loss).toBeCloseTo(m.ce + m.aux + m.mtp, 4);
    expect(m.mtp).toBeCloseTo(0.3 * m["mtp.1"], 5);
    expect(loads[0]).toHaveLength(2); // the main MoE layer, then the MTP module's
    expect(loads[0][1].reduce((a, b) => a + b, 0)).toBe(2 * 11 * 2); // B·(T − 1) tokens, top-2
    expect(bias()).not.toEqual(before);
    const n = tf.memory().numTensors;
    tf.dispose(tf.tidy(() => model.stepLoss(inputs, targets).loss));
    tf.dispose(model.loss(inputs, targets) as unknown as tf.Tensor[]);
    expect(tf.memory().numTensors).toBe(n);
    tf.dispose([inputs, targets]);
    model.dispose();
  });
});

describe("named errors", () => {
  it("bad configs, short sequences, models without MTP, evicting caches, bad rollbacks", () => {
    expect(() => lmConfig({ ...TINY, mtpDepth: -1 })).toThrow("lmConfig: mtpDepth must be an integer ≥ 0, got -1");
    expect(() => lmConfig({ ...TINY, mtpDepth: 1.5 })).toThrow("lmConfig: mtpDepth must be an integer ≥ 0, got 1.5");
    expect(() => lmConfig({ ...TINY, mtpDepth: 32 })).toThrow("lmConfig: mtpDepth (32) must be below contextLen (32)");
    expect(() => lmConfig({ ...TINY, mtpLambda: -0.1 })).toThrow(
      "lmConfig: mtpLambda must be a finite number ≥ 0, got -0.1",
    );
    expect(() => lmConfig({ ...TINY, mtpLambda: NaN })).toThrow(
      "lmConfig: mtpLambda must be a finite number ≥ 0, got NaN",
    );
    seed(60);
    const model = new TransformerLM({ ...TINY, mtpDepth: 2 });
    const short = tf.tensor2d([1, 2], [1, 2], "int32");
    expect(() => model.loss(short, short)).toThrow(
      "TransformerLM.loss(inputs, targets): sequence length 2 must exceed mtpDepth 2 (module k needs a target k + 1 ahead)",
    );
    expect(() => model.loss(tf.tensor2d([1, 2, 3], [1, 3], "int32"), tf.tensor2d([1, 2, 16], [1, 3], "int32"))).toThrow(
      /token id 16 at index 2 is outside the vocabulary \[0, 16\)/,
    );
    expect(() => speculativeGenerate(model, [1], 32)).toThrow(
      "speculativeGenerate(model, prompt, maxNewTokens): prompt (1) + maxNewTokens (32) exceeds contextLen 32",
    );
    expect(() => speculativeGenerate(model, [], 3)).toThrow(/prompt must hold at least one token/);
    expect(() => speculativeGenerate(model, [1], 0)).toThrow(/maxNewTokens must be a positive integer/);
    const plain = new TransformerLM(TINY);
    expect(() => speculativeGenerate(plain, [1], 3)).toThrow(
      "speculativeGenerate(model, prompt, maxNewTokens): the model has no MTP module (config.mtpDepth is 0); build it with mtpDepth ≥ 1",
    );
    const windowed = new TransformerLM({ ...TINY, mtpDepth: 1, slidingWindow: 4 });
    expect(() => speculativeGenerate(windowed, [1], 3)).toThrow(
      /sliding-window attention \(slidingWindow 4\) evicts cache rows/,
    );
    const cache = new KVCache(1);
    expect(() => cache.truncate(1)).toThrow("KVCache.truncate(length): expected an integer in [0, 0], got 1");
    tf.dispose(short);
    [model, plain, windowed].forEach((m) => m.dispose());
  });
});
