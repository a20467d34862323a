// Batched generation equals generating each prompt alone, token for token (ragged prompts, also more rows than a GEMM
// micro-panel; dense, MoE, GQA, MQA, MLA naive and absorbed, sliding-window, learned positions; greedy and seeded
// sampling with top-k/top-p and stop tokens), decode holds a flat number of tensors per step, sliding-window rows evict
// what their window no longer sees, the cache's slot buffers give the same tokens where they are written in place
// (native, cpu) and where they are rebuilt (wasm), and bad input gets named errors.
import { beforeAll, describe, expect, it } from "vitest";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../lib/backend-select";
import { Rng, seed } from "../../lib/random";
import { forwardRows, generate, generateBatch, LMConfig, TransformerLM } from "../../lib/model";

beforeAll(async () => {
  await selectBackend();
});

const TINY: Partial<LMConfig> = { vocabSize: 32, dim: 16, nLayers: 2, nHeads: 4, contextLen: 24, ffnHidden: 24 };
const VARIANTS: Record<string, Partial<LMConfig>> = {
  dense: TINY,
  moe: { ...TINY, ffn: "moe", nDenseLayers: 1, moe: { nRouted: 4, nShared: 1, topK: 2, expertHidden: 8 } },
  gqa: { ...TINY, nKVHeads: 2 },
  mqa: { ...TINY, nKVHeads: 1 },
  "mla naive": {
    ...TINY,
    attention: "mla",
    mla: { kvLoraRank: 8, qkNopeHeadDim: 4, qkRopeHeadDim: 4, vHeadDim: 4, path: "naive" },
  },
  "mla absorbed": {
    ...TINY,
    attention: "mla",
    mla: { kvLoraRank: 8, qkNopeHeadDim: 4, qkRopeHeadDim: 4, vHeadDim: 4, path: "absorbed", qLoraRank: 6 },
  },
  sparse: { ...TINY, slidingWindow: 3, globalTokens: 1 },
  learned: { ...TINY, positions: "learned" },
};
const PROMPTS = [[1, 2, 3, 4, 5, 6, 7], [9], [4, 4, 8, 30], [17, 3]];

describe("generateBatch", () => {
  for (const [name, cfg] of Object.entries(VARIANTS)) {
    it(`equals generate on each prompt alone (${name}; greedy and sampled)`, () => {
      seed(3);
      const model = new TransformerLM(cfg);
      const greedy = generateBatch(model, PROMPTS, 8, { temperature: 0 });
      expect(greedy).toEqual(PROMPTS.map((p) => generate(model, p, 8, { temperature: 0 })));
      const sampling = { temperature: 1.3, topK: 12, topP: 0.9 };
      const batched = generateBatch(
        model,
        PROMPTS,
        8,
        sampling,
        PROMPTS.map((_, i) => new Rng(100 + i)),
      );
      expect(batched).toEqual(PROMPTS.map((p, i) => generate(model, p, 8, sampling, new Rng(100 + i))));
      const noCache = generateBatch(
        model,
        PROMPTS,
        8,
        { ...sampling, useCache: false },
        PROMPTS.map((_, i) => new Rng(100 + i)),
      );
      expect(noCache).toEqual(batched);
      model.dispose();
    });
  }

  it("equals generate on each prompt alone with more rows than a GEMM micro-panel (16 rows pack W, 1 row reads it in place)", () => {
    seed(11);
    const model = new TransformerLM(TINY);
    const rng = new Rng(12);
    const prompts = Array.from({ length: 16 }, () => Array.from({ length: 1 + rng.int(6) }, () => rng.int(32)));
    expect(generateBatch(model, prompts, 10, { temperature: 0 })).toEqual(
      prompts.map((p) => generate(model, p, 10, { temperature: 0 })),
    );
    const sampling = { temperature: 1.1, topK: 20 };
    expect(
      generateBatch(
        model,
        prompts,
        10,
        sampling,
        prompts.map((_, i) => new Rng(200 + i)),
      ),
    ).toEqual(prompts.map((p, i) => generate(model, p, 10, sampling, new Rng(200 + i))));
    model.dispose();
  });

  it("evicts sliding-window rows: the cache stays within 2·(global + window) slots, logits equal the uncached pass", () => {
    seed(6);
    const model = new TransformerLM(VARIANTS.sparse); // window 3, 1 global token
    const rows = [PROMPTS[0], PROMPTS[3]];
    const cache = model.newCache();
    cache.addRows(2);
    let seqs = rows.map((p) => [...p]);
    let logits = forwardRows(
      model,
      rows.map((feed) => ({ feed, start: 0 })),
      cache,
    );
    const before = tf.memory().numTensors;
    for (let step = 0; step < 14; step++) {
      const next = logits.map((l) => l.indexOf(Math.max(...l)));
      seqs = seqs.map((s, b) => [...s, next[b]]);
      logits = forwardRows(
        model,
        seqs.map((s) => ({ feed: s.slice(-1), start: s.length - 1 })),
        cache,
      );
      expect(cache.length).toBeLessThanOrEqual(2 * (1 + 3));
      expect(tf.memory().numTensors).toBe(before);
      const full = forwardRows(
        model,
        seqs.map((feed) => ({ feed, start: 0 })),
      );
      full.forEach((row, b) => row.forEach((v, i) => expect(Math.abs(v - logits[b][i])).toBeLessThan(1e-4)));
    }
    expect(Math.max(...[0, 1].map((b) => cache.rowTokens(b)))).toBeLessThanOrEqual(1 + 3 - 1); // global + window − 1
    cache.dispose();
    expect(generateBatch(model, PROMPTS, 16, { temperature: 0 })).toEqual(
      PROMPTS.map((p) => generate(model, p, 16, { temperature: 0 })),
    );
    model.dispose();
  });

  it("gives the native backend's tokens on cpu (in-place cache writes) and wasm (rebuilt cache buffers)", async () => {
    const tokens: number[][][] = [];
    for (const backend of ["native", "cpu", "wasm"]) {
      await selectBackend(backend);
      seed(8);
      for (const name of ["gqa", "mla absorbed", "sparse"]) {
        const model = new TransformerLM(VARIANTS[name]);
        tokens.push([
          ...generateBatch(model, PROMPTS, 6, { temperature: 0 }),
          generate(model, PROMPTS[0], 6, { temperature: 0 }),
        ]);
        model.dispose();
      }
    }
    await selectBackend();
    expect(tokens.slice(3, 6)).toEqual(tokens.slice(0, 3));
    expect(tokens.slice(6, 9)).toEqual(tokens.slice(0, 3));
  });

  it("stops a row at its stop token while the others go on", () => {
    seed(4);
    const model = new TransformerLM(TINY);
    const free = generateBatch(model, PROMPTS, 8, { temperature: 0 });
    const stop = free[0][2];
    const stopped = generateBatch(model, PROMPTS, 8, { temperature: 0, stop: [stop] });
    stopped.forEach((row, i) => {
      const cut = free[i].indexOf(stop);
      expect(row).toEqual(cut < 0 ? free[i] : free[i].slice(0, cut + 1));
      expect(row).toEqual(generate(model, PROMPTS[i], 8, { temperature: 0, stop: [stop] }));
    });
    model.dispose();
  });

  it("keeps tensors flat: nothing left after a call, the same count whatever the length", () => {
    seed(5);
    const model = new TransformerLM(VARIANTS.moe);
    generateBatch(model, PROMPTS, 2, { temperature: 0 });
    const before = tf.memory().numTensors;
    generateBatch(model, PROMPTS, 3, { temperature: 0 });
    expect(tf.memory().numTensors).toBe(before);
    generateBatch(model, PROMPTS, 12, { temperature: 0 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it("decodes with a flat tensor count per step and no training work (MoE aux loss 0 with a cache)", () => {
    seed(7);
    const model = new TransformerLM(VARIANTS.moe);
    const cache = model.newCache();
    cache.addRows(2);
    const base = tf.memory().numTensors;
    forwardRows(
      model,
      [
        { feed: [1, 2, 3], start: 0 },
        { feed: [4], start: 0 },
      ],
      cache,
    );
    const afterPrefill = tf.memory().numTensors;
    for (let step = 0; step < 6; step++) {
      forwardRows(
        model,
        [
          { feed: [5], start: 3 + step },
          { feed: [6], start: 1 + step },
        ],
        cache,
      );
      expect(tf.memory().numTensors).toBe(afterPrefill);
    }
    expect(afterPrefill - base).toBe(2 * 2); // k and v of 2 layers
    const aux = tf.tidy(
      () =>
        model.forward(tf.tensor2d([[7], [8]], [2, 1], "int32"), cache, Int32Array.from([9, 7])).auxLoss.dataSync()[0],
    );
    expect(aux).toBe(0);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(base);
    model.dispose();
  });

  it("names bad input", () => {
    seed(6);
    const model = new TransformerLM(TINY);
    expect(() => generateBatch(model, [[1], []], 2)).toThrow(/prompts\[1\] must hold at least one token/);
    expect(() => generateBatch(model, [[1, 99]], 2)).toThrow(/prompts\[0\]\[1\] = 99 is not a token id in \[0, 32\)/);
    expect(() => generateBatch(model, [[1]], 24)).toThrow(
      /prompts\[0\] \(1 tokens\) \+ maxNewTokens \(24\) exceeds contextLen 24/,
    );
    expect(() => generateBatch(model, [[1]], 2, { topP: 0 })).toThrow(/topP must be a number in \(0, 1\]/);
    expect(() => generateBatch(model, [[1]], 2, { temperature: -1 })).toThrow(
      /temperature must be a finite number ≥ 0/,
    );
    expect(() => generateBatch(model, [], 2)).toThrow(/prompts must hold at least one prompt/);
    model.dispose();
  });
});
