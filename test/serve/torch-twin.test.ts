// The PyTorch twin used by `npm run bench:serve` decodes like the lab: with the lab's weights, its KV-cached logits
// at every step equal the lab's full-sequence logits, and its greedy tokens equal lab.model.generateBatch's (RoPE and
// learned positions, tied and untied heads); unsupported models are refused by name. (No timing here.)
import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { generateBatch, LMConfig, TransformerLM } from "../../lib/model";
import { torchTwinDecode } from "../../lib/serve";

const PYTHON = "/usr/bin/python3";

beforeAll(async () => {
  await selectBackend();
});

describe.skipIf(!existsSync(PYTHON))("torch twin decode", () => {
  const TINY: Partial<LMConfig> = { vocabSize: 40, dim: 16, nLayers: 2, nHeads: 4, contextLen: 24, ffnHidden: 24 };
  for (const [name, cfg] of Object.entries({
    rope: TINY,
    "learned, untied": { ...TINY, positions: "learned", tiedHead: false } as Partial<LMConfig>,
  })) {
    it(`matches the lab's logits and greedy tokens (${name})`, () => {
      seed(12);
      const model = new TransformerLM(cfg);
      const prompts = [
        [1, 5, 9, 2, 7],
        [33, 4, 4, 0, 12],
      ];
      const steps = 6;
      const bench = { batches: [1, 2], inputLen: 3, outputLen: 3, warmup: 0, repeats: 1 };
      const reply = torchTwinDecode(model, { check: { prompts, steps }, bench, threads: 1 });
      expect(reply.bench!.map((r) => [r.batch, r.decode_tokens_per_s.length, r.decode_tokens_per_s[0] > 0])).toEqual([
        [1, 1, true],
        [2, 1, true],
      ]);
      const tokens = generateBatch(model, prompts, steps, { temperature: 0 });
      expect(reply.check!.tokens).toEqual(tokens);
      prompts.forEach((p, b) => {
        const seq = [...p, ...tokens[b]];
        const logits = tf.tidy(() => model.apply(tf.tensor2d(seq, [1, seq.length], "int32")).arraySync()[0]); // [T, V]
        for (let s = 0; s < steps; s++) {
          const lab = logits[p.length - 1 + s];
          const twin = reply.check!.logits[b][s];
          const err = Math.max(...lab.map((v, i) => Math.abs(v - twin[i])));
          expect(err).toBeLessThan(1e-4);
        }
      });
      model.dispose();
    });
  }

  it("refuses models it does not twin", () => {
    seed(13);
    const model = new TransformerLM({ ...TINY, nKVHeads: 2 });
    expect(() => torchTwinDecode(model, { check: { prompts: [[1]], steps: 1 }, bench: null, threads: 1 })).toThrow(
      /unsupported model settings: attention \(MHA only\)/,
    );
    model.dispose();
  });
});
