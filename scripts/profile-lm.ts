// `npm run bench:profile`: where a training step of the lab's own models spends its time on the native backend —
// one lab.train.fit step of TransformerLM (dense, MoE, GQA, MLA, and the dense model in bf16 mixed precision where the
// CPU has a bf16 product; the bench's LM-suite sizes) under tf.profile, kernels by total time, and the wall time outside
// kernels (tfjs tape and bookkeeping, JS). What to fuse next comes from here.
// Usage: npm run bench:profile -- [--tiny] [--only dense,moe,gqa,mla,bf16] [--top N]   (--tiny: test-sized models, a smoke run)
import { profileTfjsCase } from "../lib/bench/tfjs";
import { profileTable } from "../lib/bench/report";
import { DENSE_LM, MOE_LM, lmFitConfig } from "../lib/bench/models/lm-fit";
import { benchCases } from "../lib/bench/workloads";
import { lmConfig, type LMConfig } from "../lib/model/config";
import { matmulBf16Support } from "../lib/native/kernels/matmul";

const VARIANTS: Record<string, (base: LMConfig) => LMConfig> = {
  dense: (b) => b,
  moe: (b) => lmConfig({ ...b, ffn: "moe", moe: MOE_LM.moe }),
  gqa: (b) => lmConfig({ ...b, attention: "mha", nKVHeads: Math.max(1, b.nHeads / 2) }),
  mla: (b) =>
    lmConfig({
      ...b,
      attention: "mla",
      mla: {
        kvLoraRank: b.dim / 4,
        qkNopeHeadDim: b.dim / b.nHeads / 2,
        qkRopeHeadDim: b.dim / b.nHeads / 2,
        vHeadDim: b.dim / b.nHeads,
      },
    }),
  bf16: (b) => lmConfig({ ...b, precision: "bf16" }),
};

function parseArgs(argv: string[]): { tiny: boolean; only: string[]; top: number } {
  // bf16 by default only where this CPU has a bf16 product
  const only = Object.keys(VARIANTS).filter((v) => v !== "bf16" || matmulBf16Support() === null);
  const cli = { tiny: false, only, top: 20 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--tiny") cli.tiny = true;
    else if (argv[i] === "--only") cli.only = (argv[++i] ?? "").split(",");
    else if (argv[i] === "--top") cli.top = Number(argv[++i]);
    else
      throw new Error(
        `profile-lm: unknown argument "${argv[i]}"; usage: npm run bench:profile -- [--tiny] [--only ${Object.keys(VARIANTS).join(",")}] [--top N]`,
      );
  }
  for (const v of cli.only)
    if (!VARIANTS[v])
      throw new Error(`profile-lm: --only: unknown model "${v}"; expected any of ${Object.keys(VARIANTS).join(", ")}`);
  if (!(Number.isInteger(cli.top) && cli.top > 0)) throw new Error("profile-lm: --top expects a positive integer");
  return cli;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  const base = cli.tiny ? lmConfig({ ...DENSE_LM, dim: 32, nLayers: 2, contextLen: 16, ffnHidden: 40 }) : DENSE_LM;
  for (const name of cli.only) {
    const model = VARIANTS[name](
      cli.tiny && name === "moe" ? lmConfig({ ...base, ffn: "moe", moe: { ...MOE_LM.moe, expertHidden: 10 } }) : base,
    );
    const config = lmFitConfig(model, { steps: 1, ...(cli.tiny ? { batchSize: 2, seqLen: 16 } : {}) });
    const [c] = benchCases({ only: ["lm"], lm: [config] });
    const p = await profileTfjsCase("native", c);
    console.log(`\n## ${name}: ${c.label}\n\n${profileTable(p, cli.top)}`);
  }
}

main().catch((e) => {
  console.error(`profile-lm: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
