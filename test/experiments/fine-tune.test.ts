// The fine-tuning harness: every method adapts a copy (the pretrained base stays bit for bit), frees what it made,
// and reports the footprint of what it trained; a distilled student trains against a frozen teacher.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { TransformerLM } from "../../lib/model";
import { evalBatches, randomBatches } from "../../lib/data";
import { adaptRun, trainStudent, type AdaptMethod } from "../../lib/experiments/fine-tune";

beforeAll(async () => {
  await selectBackend();
});

const CFG = { vocabSize: 16, dim: 16, nLayers: 1, nHeads: 2, contextLen: 16, ffnHidden: 24 };
const stream = (k: number) => Int32Array.from({ length: 400 }, (_, i) => (i * k + (i >> 3)) % 16);

describe("adaptRun / trainStudent", () => {
  it("adapts a copy by each method, leaves the base and the tensor count as they were", async () => {
    seed(1);
    const base = new TransformerLM(CFG);
    const before = [...base.namedParameters().values()].map((v) => v.dataSync().slice());
    const bc = { batchSize: 2, seqLen: 8 };
    const data = {
      domain: randomBatches(stream(3), { ...bc, seed: 1 }),
      mix: randomBatches(stream(5), { ...bc, seed: 2 }),
      valDomain: evalBatches(stream(3), { ...bc, maxBatches: 1 }),
      valOriginal: evalBatches(stream(5), { ...bc, maxBatches: 1 }),
    };
    const methods: AdaptMethod[] = [
      { name: "full", kind: "full" },
      { name: "lora", kind: "lora", lora: { r: 2, targetModules: ["wqkv", "wo"] } },
      {
        name: "qlora",
        kind: "lora",
        lora: { r: 2, targetModules: ["wqkv", "wo"] },
        quantizeBase: { granularity: { kind: "group", size: 16 } },
      },
      { name: "two-stage", kind: "two-stage", generalShare: 0.5 },
    ];
    const n0 = tf.memory().numTensors;
    const out: Record<string, Awaited<ReturnType<typeof adaptRun<number>>>> = {};
    for (const m of methods)
      out[m.name] = await adaptRun(
        base,
        m,
        data,
        { steps: 3, lr: 1e-2, lrLora: 1e-2, warmupSteps: 0, seed: 0 },
        (model) => model.numParams(),
      );
    expect(tf.memory().numTensors).toBe(n0);
    [...base.namedParameters().values()].forEach((v, i) => expect(v.dataSync()).toEqual(before[i]));
    expect(out.full.footprint.trainableParams).toBe(base.numParams());
    expect(out.lora.footprint.trainableParams).toBe(2 * (16 + 48) + 2 * (16 + 16)); // wqkv [48, 16], wo [16, 16] at r = 2
    expect(out.qlora.footprint.weightBytes).toBeLessThan(out.lora.footprint.weightBytes);
    for (const r of Object.values(out)) {
      expect(Number.isFinite(r.domainLoss) && Number.isFinite(r.originalLoss)).toBe(true);
      expect(r.inspected).toBe(base.numParams());
    }
    expect(out.full.domainLoss).not.toBe(out["two-stage"].domainLoss);
    base.dispose();
  });

  it("a student distilled from a teacher differs from one trained from scratch; the teacher is not trained", async () => {
    seed(2);
    const teacher = new TransformerLM({ ...CFG, ffn: "moe", moe: { nRouted: 4, nShared: 1, topK: 2 } });
    const teacherBefore = [...teacher.namedParameters().values()].map((v) => v.dataSync().slice());
    const bc = { batchSize: 2, seqLen: 8 };
    const val = evalBatches(stream(3), { ...bc, maxBatches: 1 });
    const run = async (t: TransformerLM | null) => {
      seed(3);
      const student = new TransformerLM(CFG);
      const loss = await trainStudent(student, t, randomBatches(stream(3), { ...bc, seed: 4 }), val, {
        steps: 3,
        lr: 1e-2,
        warmupSteps: 0,
        seed: 0,
        temperature: 2,
        alpha: 0.5,
      });
      student.dispose();
      return loss;
    };
    const n0 = tf.memory().numTensors;
    const [distilled, scratch] = [await run(teacher), await run(null)];
    expect(tf.memory().numTensors).toBe(n0);
    expect(Number.isFinite(distilled) && Number.isFinite(scratch)).toBe(true);
    expect(distilled).not.toBe(scratch);
    [...teacher.namedParameters().values()].forEach((v, i) => expect(v.dataSync()).toEqual(teacherBefore[i]));
    teacher.dispose();
  });
});
