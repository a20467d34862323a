// `npm run bench:profile-decode`: where one KV-cached decode step of lab.model.generateBatch spends its kernels on the
// native backend — the small preset (dense, and its GQA / MLA-absorbed / sliding-window variants) at batch 1 and 32,
// one forwardRows step after a prefill, under tf.profile: kernels by calls and time, and the wall time outside
// kernels. What to fuse next in the decode path comes from the call counts here (timings need a quiet machine).
// Usage: npx ts-node scripts/profile-decode.ts [--preset nano|micro|small] [--batch 1,32] [--only dense,gqa,mla,window]
import { profileKernels } from "../lib/bench/profile";
import { profileTable } from "../lib/bench/report";
import * as lab from "../lib";
import { lmConfig, presetConfig, type LMConfig, type PresetName } from "../lib/model/config";
import { forwardRows } from "../lib/model/batch-step";

const VARIANTS: Record<string, (b: LMConfig) => LMConfig> = {
  dense: (b) => b,
  gqa: (b) => lmConfig({ ...b, nKVHeads: Math.max(1, b.nHeads / 4) }),
  mla: (b) =>
    lmConfig({
      ...b,
      attention: "mla",
      mla: {
        kvLoraRank: b.dim / 4,
        qkNopeHeadDim: 16,
        qkRopeHeadDim: 16,
        vHeadDim: b.dim / b.nHeads,
        path: "absorbed",
      },
    }),
  window: (b) => lmConfig({ ...b, slidingWindow: 16, globalTokens: 2 }),
};

function parseArgs(argv: string[]): { preset: PresetName; batch: number[]; only: string[] } {
  const cli = { preset: "small" as PresetName, batch: [1, 32], only: Object.keys(VARIANTS) };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--preset") cli.preset = argv[++i] as PresetName;
    else if (argv[i] === "--batch") cli.batch = (argv[++i] ?? "").split(",").map(Number);
    else if (argv[i] === "--only") cli.only = (argv[++i] ?? "").split(",");
    else
      throw new Error(
        `profile-decode: unknown argument "${argv[i]}"; usage: [--preset nano|micro|small] [--batch 1,32] [--only ${Object.keys(VARIANTS)}]`,
      );
  }
  for (const v of cli.only) if (!VARIANTS[v]) throw new Error(`profile-decode: --only: unknown variant "${v}"`);
  return cli;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  await lab.useBackend("native");
  for (const name of cli.only) {
    lab.seed(0);
    const model = new lab.model.TransformerLM(VARIANTS[name](presetConfig(cli.preset)));
    for (const B of cli.batch) {
      const prompts = lab.serve.batchRequests(model.config.vocabSize, B, 32, 8, 0).map((r) => [...r.prompt]);
      const cache = model.newCache();
      cache.addRows(B);
      forwardRows(
        model,
        prompts.map((feed) => ({ feed, start: 0 })),
        cache,
      );
      let start = 32;
      const step = () =>
        forwardRows(
          model,
          prompts.map(() => ({ feed: [1], start })),
          cache,
        ) && start++;
      step(); // warm-up
      const before = lab.tf.memory().numTensors;
      const p = await profileKernels(step, null);
      const leaked = lab.tf.memory().numTensors - before;
      const calls = p.kernels.reduce((n, k) => n + k.calls, 0);
      console.log(
        `\n## ${name}, batch ${B}: ${calls} kernel calls per decode step (tensors after − before: ${leaked})\n`,
      );
      console.log(profileTable(p, 25));
      cache.dispose();
    }
    model.dispose();
  }
}

main().catch((e) => {
  console.error(`profile-decode: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
