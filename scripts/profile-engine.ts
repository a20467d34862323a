// `npm run bench:profile-engine`: what the serving engine (lib/serve/engine.ts) does besides the model's own work —
// static vs continuous batching on bench:serve's Poisson trace (64 requests, prompts and outputs of 4–64 tokens, up to
// 16 rows), on the logical clock so the schedule does not depend on the machine's load: steps, tfjs kernel calls
// (per generated token) and the MiB that 4-D data-movement kernels (Concat, Slice, Transpose, GatherV2, Fill: KV-cache
// copies and prefill head transposes) write; the KV cache's typed-array copies (lib/model/slot-buffer.ts: one copy of
// the slots in use per merge or compaction) are not kernels and not counted. Counts, not timings: they are the same on
// a loaded machine. The trace's rate in requests per second becomes rate × stepMs / 1000 arrivals per logical step.
// Usage: npx ts-node scripts/profile-engine.ts [--preset nano|micro|small] [--rate 32] [--step-ms 6]
import * as lab from "../lib";
import { presetConfig, type PresetName } from "../lib/model/config";

const MOVES = ["Concat", "Slice", "Transpose", "GatherV2", "Fill"];

function parseArgs(argv: string[]): { preset: PresetName; rate: number; stepMs: number } {
  const cli = { preset: "small" as PresetName, rate: 32, stepMs: 6 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--preset") cli.preset = argv[++i] as PresetName;
    else if (argv[i] === "--rate") cli.rate = Number(argv[++i]);
    else if (argv[i] === "--step-ms") cli.stepMs = Number(argv[++i]);
    else
      throw new Error(
        `profile-engine: unknown argument "${argv[i]}"; usage: [--preset nano|micro|small] [--rate 32] [--step-ms 6]`,
      );
  }
  for (const key of ["rate", "stepMs"] as const)
    if (!(cli[key] > 0)) throw new Error(`profile-engine: --${key} must be a number > 0, got ${cli[key]}`);
  return cli;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  await lab.useBackend("native");
  lab.seed(0);
  const model = new lab.model.TransformerLM(presetConfig(cli.preset));
  const requests = lab.serve.poissonTrace({
    vocabSize: model.config.vocabSize,
    requests: 64,
    promptLen: [4, 64],
    outputLen: [4, 64],
    rate: (cli.rate * cli.stepMs) / 1000,
    seed: 0,
  });
  console.log(`${cli.preset} preset, rate ${cli.rate} req/s at ${cli.stepMs} ms a step, max batch 16\n`);
  console.log(
    "| policy | steps | tokens | kernel calls | calls / token | MiB by 4-D copy kernels | Concat | Slice | Transpose |",
  );
  console.log("| :-- | --: | --: | --: | --: | --: | --: | --: | --: |");
  for (const policy of ["static", "continuous"] as const) {
    let run: lab.serve.EngineRun | null = null;
    const info = await lab.tf.profile(() => {
      run = new lab.serve.Engine(model, { policy, maxBatch: 16 }).run(requests);
    });
    const r = run as unknown as lab.serve.EngineRun;
    const tokens = r.results.reduce((n, x) => n + x.tokens.length, 0);
    const calls = (name: string) => info.kernels.filter((k) => k.name === name).length;
    const moved = info.kernels
      .filter((k) => MOVES.includes(k.name) && (k.outputShapes[0]?.length ?? 0) === 4)
      .reduce((n, k) => n + 4 * (k.outputShapes[0] as number[]).reduce((a, b) => a * b, 1), 0);
    console.log(
      `| ${policy} | ${r.steps} | ${tokens} | ${info.kernels.length} | ${(info.kernels.length / tokens).toFixed(1)} | ${(moved / 2 ** 20).toFixed(0)} | ${calls("Concat")} | ${calls("Slice")} | ${calls("Transpose")} |`,
    );
  }
  model.dispose();
}

main().catch((e) => {
  console.error(`profile-engine: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
