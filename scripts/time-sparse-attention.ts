// Rough forward-pass time of full vs sliding-window + global attention as the length grows, the attention-kv-cache
// notebook's measurement (the nano model, batch 1, untrained weights, forward + dataSync of the logits) with the
// variants and lengths interleaved in every round, so load drifts hit both alike. Prints the median ms per (variant,
// T) and the growth exponent log(t₂/t₁)/log(T₂/T₁) between neighbouring lengths (1 = linear, 2 = quadratic).
// A diagnostic, not a result: timings on a shared machine are noisy; the cost test is test/model/sparse.test.ts.
// Usage: npx ts-node scripts/time-sparse-attention.ts [--backend native|wasm|cpu] [--lengths 512,1024,2048,4096]
//        [--rounds 3] [--window 32] [--global 4]
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { useBackend, type BackendName } from "../lib/backend-select";
import { presetConfig, TransformerLM } from "../lib/model";
import { seed } from "../lib/random";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: "string", default: "native" },
      lengths: { type: "string", default: "512,1024,2048,4096" },
      rounds: { type: "string", default: "3" },
      window: { type: "string", default: "32" },
      global: { type: "string", default: "4" },
    },
  });
  await useBackend(values.backend as BackendName);
  const lengths = values.lengths.split(",").map(Number);
  const rounds = Number(values.rounds);
  const contextLen = Math.max(...lengths);
  const sparse = { slidingWindow: Number(values.window), globalTokens: Number(values.global) };
  seed(0);
  const models: Record<string, TransformerLM> = {
    full: new TransformerLM(presetConfig("nano", { vocabSize: 80, contextLen })),
    "local + global": new TransformerLM(presetConfig("nano", { vocabSize: 80, contextLen, ...sparse })),
  };
  const ms: Record<string, number[][]> = Object.fromEntries(
    Object.keys(models).map((n) => [n, lengths.map(() => [] as number[])]),
  );
  for (let r = -1; r < rounds; r++) {
    for (const [i, T] of lengths.entries()) {
      for (const [name, model] of Object.entries(models)) {
        const x = tf.zeros([1, T], "int32") as tf.Tensor2D; // [1, T]
        const t0 = performance.now();
        tf.tidy(() => void model.forward(x).logits.dataSync());
        if (r >= 0) ms[name][i].push(performance.now() - t0); // round −1 warms up
        x.dispose();
      }
    }
  }
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  console.log(
    `backend ${tf.getBackend()}, window ${sparse.slidingWindow} + ${sparse.globalTokens} global, ${rounds} rounds`,
  );
  for (const [name, rows] of Object.entries(ms)) {
    const med = rows.map(median);
    const exps = med.slice(1).map((m, i) => Math.log(m / med[i]) / Math.log(lengths[i + 1] / lengths[i]));
    console.log(
      `${name.padEnd(15)} ms ${med.map((m, i) => `T=${lengths[i]}: ${m.toFixed(1)}`).join(", ")}; exponents ${exps.map((e) => e.toFixed(2)).join(", ")}`,
    );
  }
  Object.values(models).forEach((m) => m.dispose());
}

void main();
