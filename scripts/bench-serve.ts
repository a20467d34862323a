// `npm run bench:serve`: the serving benchmark. (1) The articles' stress test generalised (lab.serve.stressTest):
// batch × input length × output length, per-request TTFT/TPOT/ITL/E2E percentiles, output and total tokens/s, weights,
// KV cache and peak RSS. (2) KV-cached decode tokens/s at batch 1 and 32 against a PyTorch twin of the same model
// with a preallocated KV cache (scripts/bench_serve_torch.py, Debian python3-torch; the twin's logits are checked
// against the lab's first, in the same run). (3) Static vs continuous batching at rising Poisson request rates.
// Writes results/bench/serve.{json,md,png}. Usage: npm run bench:serve -- [--quick] [--repeats N] [--out DIR]
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as lab from "../lib";
import { summarize } from "../lib/bench/timing";
import { nativeAddon } from "../lib/native/addon";
import { renderPng, closeRenderer } from "../lib/viz/renderer";

function parseArgs(argv: string[]): { quick: boolean; repeats: number | null; out: string } {
  const cli = { quick: false, repeats: null as number | null, out: path.join("results", "bench") };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--quick") cli.quick = true;
    else if (argv[i] === "--repeats") cli.repeats = Number(argv[++i]);
    else if (argv[i] === "--out" && argv[i + 1]) cli.out = argv[++i];
    else
      throw new Error(
        `bench-serve: unknown argument "${argv[i]}"; usage: npm run bench:serve -- [--quick] [--repeats N] [--out DIR]`,
      );
  }
  if (cli.repeats !== null && !(Number.isInteger(cli.repeats) && cli.repeats > 0))
    throw new Error("bench-serve: --repeats expects a positive integer");
  return cli;
}

const fmt = (v: number) =>
  !Number.isFinite(v) ? "–" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
const ms = (s: number) => fmt(s * 1000);
const mib = (b: number) => fmt(b / 2 ** 20);

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  await lab.useBackend("native");
  const threads = (nativeAddon()?.info().threads as number | undefined) ?? 1;
  const repeats = cli.repeats ?? (cli.quick ? 2 : 5);
  lab.seed(0);
  const model = new lab.model.TransformerLM(lab.model.presetConfig(cli.quick ? "nano" : "small"));
  const c = model.config;

  // (1) The stress grid.
  const grid = cli.quick
    ? { batch: [1, 4], inputLen: [16], outputLen: [8] }
    : { batch: [1, 8, 32], inputLen: [32, 128], outputLen: [64] };
  const stress = lab.serve.stressTest(model, { ...grid, warmup: 1 });

  // (2) Decode tokens/s against the PyTorch twin (same weights, checked first).
  const decode = { batches: [1, 32], inputLen: cli.quick ? 8 : 32, outputLen: cli.quick ? 8 : 32 };
  const prompts = lab.serve.batchRequests(c.vocabSize, 2, decode.inputLen, 6, 1).map((r) => [...r.prompt]);
  const twin = lab.serve.torchTwinDecode(model, {
    check: { prompts, steps: 6 },
    bench: { ...decode, warmup: 1, repeats },
    threads,
  });
  const labTokens = lab.model.generateBatch(model, prompts, 6, { temperature: 0 });
  const twinLogitsErr = Math.max(
    ...prompts.flatMap((p, b) => {
      const seq = [...p, ...labTokens[b]];
      const logits = tf.tidy(() => model.apply(tf.tensor2d(seq, [1, seq.length], "int32")).arraySync()[0]);
      return twin.check!.logits[b].flatMap((row, s) => row.map((v, i) => Math.abs(v - logits[p.length - 1 + s][i])));
    }),
  );
  const twinTokensEqual = JSON.stringify(twin.check!.tokens) === JSON.stringify(labTokens);
  const versus = decode.batches.map((batch) => {
    const labRates = Array.from({ length: repeats }, () => {
      const [row] = lab.serve.stressTest(model, {
        batch: [batch],
        inputLen: [decode.inputLen],
        outputLen: [decode.outputLen],
        warmup: 1,
      });
      return batch / row.summary.tpot.mean;
    });
    const torchRates = twin.bench!.find((r) => r.batch === batch)!.decode_tokens_per_s;
    const labMedian = summarize(labRates).median;
    const torchMedian = summarize(torchRates).median;
    return {
      batch,
      labTokensPerS: labRates,
      torchTokensPerS: torchRates,
      labMedian,
      torchMedian,
      ratio: labMedian / torchMedian,
    };
  });

  // (3) Static vs continuous batching.
  const rates = cli.quick ? [4, 32] : [2, 8, 32, 128];
  const curves = lab.serve.batchingCurves(model, {
    rates,
    trace: {
      requests: cli.quick ? 12 : 64,
      promptLen: [4, cli.quick ? 16 : 64],
      outputLen: [4, cli.quick ? 16 : 64],
      seed: 0,
    },
    engine: { maxBatch: cli.quick ? 4 : 16 },
  });

  const date = new Date().toISOString().slice(0, 10);
  const md = [
    `Serving benchmark (${date}; backend native, ${threads} threads; model ${cli.quick ? "nano" : "small"} preset, ${model.numParams()} parameters, float32; torch ${twin.torch} with ${twin.threads} threads). Shared machine: read ratios, not absolute numbers.`,
    "",
    "## Stress test (static batch, all requests at t = 0; times in ms)",
    "",
    "| batch | input | output | out tok/s | total tok/s | TTFT p50 | TTFT p99 | TPOT p50 | ITL p99 | E2E p50 | E2E p99 | weights MiB | KV MiB | peak RSS MiB |",
    "| --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
    ...stress.map((r) => {
      const s = r.summary;
      return `| ${r.batch} | ${r.inputLen} | ${r.outputLen} | ${fmt(s.outputTokensPerS)} | ${fmt(s.totalTokensPerS)} | ${ms(s.ttft.p50)} | ${ms(s.ttft.p99)} | ${ms(s.tpot.p50)} | ${ms(s.itl.p99)} | ${ms(s.e2e.p50)} | ${ms(s.e2e.p99)} | ${mib(r.weightsBytes)} | ${mib(r.kvBytes)} | ${mib(r.peakRssBytes)} |`;
    }),
    "",
    `## KV-cached decode vs the PyTorch twin (input ${decode.inputLen}, ${decode.outputLen} tokens, medians of ${repeats}; twin check: max |Δlogit| ${twinLogitsErr.toExponential(2)}, greedy tokens ${twinTokensEqual ? "equal" : "DIFFER"})`,
    "",
    "| batch | lab tok/s | torch tok/s | lab / torch (target ≥ 1.0) |",
    "| --: | --: | --: | --: |",
    ...versus.map((v) => `| ${v.batch} | ${fmt(v.labMedian)} | ${fmt(v.torchMedian)} | ${v.ratio.toFixed(2)} |`),
    "",
    "## Static vs continuous batching (Poisson arrivals; times in ms)",
    "",
    "| rate req/s | policy | out tok/s | TTFT p50 | TTFT p99 | E2E p50 | E2E p99 | preemptions |",
    "| --: | :-- | --: | --: | --: | --: | --: | --: |",
    ...curves.map(
      (p) =>
        `| ${p.rate} | ${p.policy} | ${fmt(p.summary.outputTokensPerS)} | ${ms(p.summary.ttft.p50)} | ${ms(p.summary.ttft.p99)} | ${ms(p.summary.e2e.p50)} | ${ms(p.summary.e2e.p99)} | ${p.summary.preemptions} |`,
    ),
  ].join("\n");
  console.log(md);
  fs.mkdirSync(cli.out, { recursive: true });
  const json = {
    date,
    quick: cli.quick,
    threads,
    repeats,
    model: c,
    params: model.numParams(),
    torch: twin.torch,
    twinLogitsErr,
    twinTokensEqual,
    stress,
    versus,
    curves,
  };
  fs.writeFileSync(path.join(cli.out, "serve.json"), JSON.stringify(json, null, 2));
  fs.writeFileSync(path.join(cli.out, "serve.md"), md + "\n");
  const series = (["static", "continuous"] as const).map((policy) => ({
    name: `${policy} batching`,
    x: rates,
    y: curves.filter((p) => p.policy === policy).map((p) => p.summary.outputTokensPerS),
  }));
  const png = await renderPng(
    lab.viz.line(series, {
      title: "Output tokens/s vs request rate",
      xTitle: "requests / s (Poisson)",
      yTitle: "output tokens / s",
    }),
  );
  if (png) fs.writeFileSync(path.join(cli.out, "serve.png"), png);
  await closeRenderer();
  model.dispose();
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
