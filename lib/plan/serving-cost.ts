// Deployment cost: the articles' formula 单次推理成本 = 硬件成本 / (吞吐量 × 利用率) × 功耗系数 ("cost per inference =
// hardware cost / (throughput × utilisation) × power factor") in dollars per million tokens, its inverse (the $/hour
// a reported $/M-token figure needs), the articles' A100 table as reported data, and DeepSeek's published inference
// figures (Day-6 overview). References: /work/shared/articles 000 and 002 §5.1 (formula and "成本计算示例（A100实例）"
// table); DeepSeek, "DeepSeek-V3/R1 Inference System Overview" (open-infra-index, OpenSourceWeek day 6, 2025-03-01).
import { GPUS, GpuSpec } from "./cluster";
import { figure, Figure } from "./figure";

/** The articles' formula as printed (Chinese), with its English reading. */
export const ARTICLE_COST_FORMULA = "单次推理成本 = 硬件成本 / (吞吐量 × 利用率) × 功耗系数";
const ARTICLE =
  "DeepSeek vs GPT-4/Claude/PaLM-2 article §5.1 (articles 000/002): 单次推理成本 = 硬件成本 / (吞吐量 × 利用率) × 功耗系数";

/** What the formula takes. */
export interface DeploymentCostInput {
  /** 硬件成本: hardware cost of the whole instance, USD per hour (> 0). */
  hardwarePerHour: number;
  /** 吞吐量: tokens per second the instance produces (> 0). */
  tokensPerSecond: number;
  /** 利用率: fraction of the time the instance serves at that throughput, (0, 1]. Default 1. */
  utilisation: number;
  /** 功耗系数: multiplier ≥ 1 for power and cooling on top of the hardware price (1 = included). Default 1. */
  powerFactor: number;
}

export const DEFAULT_DEPLOYMENT_COST: Readonly<Pick<DeploymentCostInput, "utilisation" | "powerFactor">> =
  Object.freeze({ utilisation: 1, powerFactor: 1 });

function check(fn: string, name: string, value: number, ok: boolean, want: string): void {
  if (!(typeof value === "number" && Number.isFinite(value) && ok))
    throw new Error(`${fn}: ${name} must be ${want}, got ${value}`);
}

function resolveInput(
  fn: string,
  input: Partial<DeploymentCostInput>,
  need: readonly ("hardwarePerHour" | "tokensPerSecond")[],
): DeploymentCostInput {
  const c = { ...DEFAULT_DEPLOYMENT_COST, hardwarePerHour: NaN, tokensPerSecond: NaN, ...input };
  for (const name of need) check(fn, name, c[name], c[name] > 0, "a finite number > 0");
  check(fn, "utilisation", c.utilisation, c.utilisation > 0 && c.utilisation <= 1, "in (0, 1]");
  check(fn, "powerFactor", c.powerFactor, c.powerFactor >= 1, "a finite number ≥ 1");
  return c;
}

/** USD per million tokens: hardwarePerHour / 3600 / (tokensPerSecond × utilisation) × powerFactor × 10⁶. */
export function costPerMillionTokens(input: Partial<DeploymentCostInput>): Figure {
  const c = resolveInput("costPerMillionTokens(input)", input, ["hardwarePerHour", "tokensPerSecond"]);
  const value = (c.hardwarePerHour / 3600 / (c.tokensPerSecond * c.utilisation)) * c.powerFactor * 1e6;
  return figure(
    value,
    "USD/M tokens",
    `硬件成本/(吞吐量×利用率)×功耗系数 = $${c.hardwarePerHour}/h ÷ 3600 ÷ (${c.tokensPerSecond} tok/s × ${c.utilisation}) × ${c.powerFactor} × 10⁶`,
    ARTICLE,
  );
}

/** The hardware USD/hour that makes `usdPerMillion` come out of the formula at `tokensPerSecond` (its inverse). */
export function impliedHourlyCost(
  usdPerMillion: number,
  input: Partial<Omit<DeploymentCostInput, "hardwarePerHour">>,
): Figure {
  const fn = "impliedHourlyCost(usdPerMillion, input)";
  check(fn, "usdPerMillion", usdPerMillion, usdPerMillion > 0, "a finite number > 0");
  const c = resolveInput(fn, input, ["tokensPerSecond"]);
  const value = ((usdPerMillion / 1e6) * c.tokensPerSecond * c.utilisation * 3600) / c.powerFactor;
  return figure(
    value,
    "USD/hour",
    `$/M × 吞吐量 × 利用率 × 3600 / 10⁶ / 功耗系数 = ${usdPerMillion} × ${c.tokensPerSecond} × ${c.utilisation} × 3600 / 10⁶ / ${c.powerFactor}`,
    ARTICLE,
  );
}

/** One row of the articles' "成本计算示例（A100实例）" table, as printed. */
export interface ReportedCostRow {
  model: string;
  gpu: GpuSpec;
  gpus: number;
  /** 吞吐量 as printed (the article gives no unit; read here as tokens/s for the instance). */
  throughput: number;
  /** 每百万token成本, USD. */
  usdPerMillion: number;
}

/** The articles' A100 table (reported, not measured): 实例规格, 吞吐量, 每百万token成本. */
export const ARTICLE_A100_COSTS: readonly ReportedCostRow[] = Object.freeze(
  [
    { model: "DeepSeek", gpu: GPUS.A100, gpus: 8, throughput: 3420, usdPerMillion: 0.12 },
    { model: "GPT-4", gpu: GPUS.A100, gpus: 16, throughput: 2850, usdPerMillion: 0.18 },
    { model: "Claude", gpu: GPUS.A100, gpus: 12, throughput: 2380, usdPerMillion: 0.21 },
    { model: "PaLM-2", gpu: GPUS.A100, gpus: 8, throughput: 3150, usdPerMillion: 0.15 },
  ].map((r) => Object.freeze(r)),
);
export const ARTICLE_A100_SOURCE =
  "articles 000/002 §5.1 成本计算示例（A100实例） (throughput unit not stated; utilisation and power factor not stated)";

/** The articles' stress-test table "推理性能对比表", reported for "测试结果（A100 80GB）": throughput, first-token latency, memory. */
export const ARTICLE_A100_STRESS: readonly {
  model: string;
  tokensPerSecond: number;
  firstTokenMs: number;
  memoryGB: number;
}[] = Object.freeze(
  [
    { model: "DeepSeek", tokensPerSecond: 3420, firstTokenMs: 125, memoryGB: 68 },
    { model: "GPT-4", tokensPerSecond: 2850, firstTokenMs: 180, memoryGB: 82 },
    { model: "Claude", tokensPerSecond: 2380, firstTokenMs: 210, memoryGB: 75 },
    { model: "PaLM-2", tokensPerSecond: 3150, firstTokenMs: 150, memoryGB: 71 },
  ].map((r) => Object.freeze(r)),
);

/** What a reported row implies at utilisation 1 and power factor 1: the instance's and one GPU's USD/hour. */
export interface ImpliedCost {
  row: ReportedCostRow;
  instancePerHour: Figure;
  gpuPerHour: Figure;
}

/** The USD/hour each reported row needs (utilisation and power factor 1, the most favourable reading). */
export function impliedCosts(rows: readonly ReportedCostRow[] = ARTICLE_A100_COSTS): ImpliedCost[] {
  return rows.map((row) => {
    const instancePerHour = impliedHourlyCost(row.usdPerMillion, { tokensPerSecond: row.throughput });
    const gpuPerHour = figure(
      instancePerHour.value / row.gpus,
      "USD/GPU-hour",
      `${instancePerHour.value.toFixed(4)} / ${row.gpus} GPUs`,
      ARTICLE_A100_SOURCE,
    );
    return { row, instancePerHour, gpuPerHour };
  });
}

/** DeepSeek's published serving statistics (24 h, 2025-02-27/28), as reported. */
export const DEEPSEEK_DAY6 = Object.freeze({
  gpu: GPUS.H800,
  gpusPerNode: 8,
  /** Prefill throughput per H800 node, input tokens/s (cache hits included). */
  prefillTokensPerSecondPerNode: 73.7e3,
  /** Decode throughput per H800 node, output tokens/s. */
  decodeTokensPerSecondPerNode: 14.8e3,
  /** Mean KV-cache length per output token. */
  meanKvLength: 4989,
  /** Mean output speed per request, tokens/s (20–22 reported). */
  outputSpeedPerRequest: [20, 22] as const,
  /** The rental price DeepSeek assumed, USD per H800-hour. */
  gpuHourUsd: 2,
  /** Nodes in use on average, and the daily cost they report at $2/GPU-hour. */
  meanNodes: 226.75,
  dailyCostUsd: 87072,
  source:
    "DeepSeek, DeepSeek-V3/R1 Inference System Overview (github.com/deepseek-ai/open-infra-index, OpenSourceWeek day 6, 2025-03-01): per H800 node ~73.7k input tok/s prefill, ~14.8k output tok/s decode; mean KV length 4989; $2/GPU-hour; 226.75 nodes on average, $87,072/day",
});
