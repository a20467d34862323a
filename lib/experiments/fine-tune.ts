// The fine-tuning notebook's harness: adapt a copy of a pretrained model to a new domain by one method (full
// fine-tuning, LoRA, QLoRA, two-stage), measuring domain and original-domain validation loss (forgetting), trainable
// parameters, training memory and step time; distil an MoE teacher into a dense student; and the share of generated
// TypeScript declarations the TypeScript compiler parses without a syntax error. Reference: Hu et al. 2021 §5 (LoRA
// vs full fine-tuning), Hinton et al. 2015, and the articles' fine-tuning advice (001 "微调最佳实践").
import * as tf from "@tensorflow/tfjs";
import { fit } from "../train/fit";
import type { BatchSet } from "../train/evaluate";
import { summarize } from "../bench/timing";
import { TransformerLM } from "../model/transformer";
import { generate } from "../model/generate";
import type { Tokenizer } from "../data/tokenizer";
import { Rng } from "../random";
import { applyLora, type ApplyLoraOptions } from "../adapt/adapter";
import type { LoraConfig } from "../adapt/config";
import { trainingFootprint, type TrainingFootprint } from "../adapt/accounting";
import { distillationLoss, type DistillConfig } from "../adapt/distill";
import { valLoss } from "./lm-run";

type Batch = { inputs: tf.Tensor2D; targets: tf.Tensor2D };

/** How to adapt: all weights, LoRA (QLoRA with quantizeBase), or two stages of full fine-tuning (general mix, then domain). */
export type AdaptMethod =
  | { name: string; kind: "full" }
  | { name: string; kind: "lora"; lora: Partial<LoraConfig>; quantizeBase?: ApplyLoraOptions["quantizeBase"] }
  | { name: string; kind: "two-stage"; generalShare: number };

/** The data of an adaptation run. */
export interface AdaptData {
  /** Training batches of the new domain. */
  domain: (step: number) => Batch;
  /** Training batches of a general mix (two-stage's first stage). */
  mix: (step: number) => Batch;
  /** Validation sets: the new domain and the pretraining domain (forgetting). */
  valDomain: BatchSet<Batch>;
  valOriginal: BatchSet<Batch>;
}

/** Settings of one adaptation run. */
export interface AdaptSettings {
  /** Optimizer steps (two-stage: both stages together). */
  steps: number;
  /** Constant learning rate after warmup (full fine-tuning and LoRA alike; LoRA papers use larger rates, see lrLora). */
  lr: number;
  /** Learning rate for LoRA and QLoRA runs. */
  lrLora: number;
  warmupSteps: number;
  seed: number;
}

/** What one adaptation measured. */
export interface AdaptResult {
  name: string;
  /** Validation cross-entropy on the new domain and on the pretraining domain after adapting (nats/token). */
  domainLoss: number;
  originalLoss: number;
  footprint: TrainingFootprint;
  /** Median training step, ms (first step left out). */
  msPerStep: number;
}

/** A fresh model with `model`'s config and weights. */
export function cloneModel(model: TransformerLM): TransformerLM {
  const copy = new TransformerLM(model.config);
  copy.loadStateDict(model.stateDict());
  return copy;
}

/**
 * Adapts a copy of `base` by `method`, evaluates it and hands it to `inspect` (e.g. to generate from it) before freeing
 * it; `base` is left as it was.
 */
export async function adaptRun<T>(
  base: TransformerLM,
  method: AdaptMethod,
  data: AdaptData,
  settings: AdaptSettings,
  inspect: (model: TransformerLM) => T,
): Promise<AdaptResult & { inspected: T }> {
  const model = cloneModel(base);
  const adapter =
    method.kind === "lora" ? applyLora(model, method.lora, { quantizeBase: method.quantizeBase ?? null }) : null;
  try {
    const footprint = trainingFootprint(model, adapter);
    const loss = (b: Batch) => model.stepLoss(b.inputs, b.targets);
    const lr = adapter ? settings.lrLora : settings.lr;
    const schedule = { kind: "constant" as const, lr, warmupSteps: settings.warmupSteps };
    const stages: { steps: number; batches: (step: number) => Batch }[] =
      method.kind === "two-stage"
        ? [
            { steps: Math.round(settings.steps * method.generalShare), batches: data.mix },
            { steps: settings.steps - Math.round(settings.steps * method.generalShare), batches: data.domain },
          ]
        : [{ steps: settings.steps, batches: data.domain }];
    const ms: number[] = [];
    for (const [i, stage] of stages.entries()) {
      if (stage.steps < 1) continue;
      const result = await fit({
        module: adapter ?? model,
        loss,
        batches: stage.batches,
        config: {
          steps: stage.steps,
          schedule,
          seed: settings.seed + i,
          label: `${method.name} ${i + 1}/${stages.length}`,
        },
      });
      ms.push(...result.history.slice(1).map((r) => r.ms));
    }
    adapter?.eval();
    const out = {
      name: method.name,
      domainLoss: valLoss(model, data.valDomain),
      originalLoss: valLoss(model, data.valOriginal),
      footprint,
      msPerStep: summarize(ms.length ? ms : [0]).median,
    };
    return { ...out, inspected: inspect(model) };
  } finally {
    adapter?.remove();
    model.dispose();
  }
}

/** Distillation run settings. */
export interface DistillRunSettings extends DistillConfig {
  steps: number;
  lr: number;
  warmupSteps: number;
  seed: number;
}

/**
 * Trains `student` on `batches` with Hinton's loss against `teacher`'s logits (teacher frozen: it is not the module
 * fit optimises), or with plain cross-entropy when `teacher` is null; returns the student's validation loss.
 */
export async function trainStudent(
  student: TransformerLM,
  teacher: TransformerLM | null,
  batches: (step: number) => Batch,
  val: BatchSet<Batch>,
  settings: DistillRunSettings,
): Promise<number> {
  const V = student.config.vocabSize;
  await fit({
    module: student,
    loss: (b: Batch) => {
      if (!teacher) return student.stepLoss(b.inputs, b.targets);
      const s = student.apply(b.inputs).reshape([-1, V]) as tf.Tensor2D; // [B·T, V]
      const t = teacher.apply(b.inputs).reshape([-1, V]) as tf.Tensor2D; // [B·T, V]
      const d = distillationLoss(s, t, b.targets.reshape([-1]) as tf.Tensor1D, settings);
      return { loss: d.loss, metrics: { kl: d.kl, ce: d.ce } };
    },
    batches,
    config: {
      steps: settings.steps,
      schedule: { kind: "constant", lr: settings.lr, warmupSteps: settings.warmupSteps },
      seed: settings.seed,
      label: teacher ? "distil" : "scratch",
    },
  });
  return valLoss(student, val);
}

/** Interface-member lines ("    name(args): Type;") of `text` that are complete members: generation prompts. */
export function declarationLines(text: string): string[] {
  return text.split("\n").filter((l) => /^ {4}[A-Za-z_[(]/.test(l) && isCompleteMember(l));
}

/**
 * A complete interface member: ends with ";" (as every member line of lib.d.ts does; a bare prefix such as "    replac"
 * would parse as a property without a type) and parses inside an interface with no syntactic diagnostic.
 */
export function isCompleteMember(line: string): boolean {
  return line.trimEnd().endsWith(";") && parsesAsMember(line);
}

type TypeScriptModule = typeof import("typescript");
let tsModule: TypeScriptModule | null = null;

function typescript(): TypeScriptModule {
  if (!tsModule) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use only (a large package)
      tsModule = require("typescript") as TypeScriptModule;
    } catch {
      throw new Error(
        "declarationPassRate: the `typescript` package is needed to parse generated declarations (npm install typescript)",
      );
    }
  }
  return tsModule;
}

/** True when `line`, as a member of an interface, parses with no syntactic diagnostic (the TypeScript compiler's parser). */
export function parsesAsMember(line: string): boolean {
  const ts = typescript();
  const out = ts.transpileModule(`interface Probe {\n${line}\n}\n`, {
    reportDiagnostics: true,
    fileName: "probe.ts",
    compilerOptions: { target: ts.ScriptTarget.ES2022 },
  });
  return (out.diagnostics ?? []).length === 0;
}

/** Settings of the compile-pass-rate probe. */
export interface PassRateConfig {
  /** Characters of each member line given as the prompt (after the indent). */
  promptChars: number;
  /** Prompts drawn (seeded) from the candidate lines. */
  samples: number;
  seed: number;
}

/**
 * The share of generated interface members that are complete and parse: for each sampled line (among those whose
 * tokens fit the model's context, so a completion is possible), the model continues its first 4 + promptChars
 * characters greedily up to the end of the line (or the context); see isCompleteMember.
 */
export function declarationPassRate(
  model: TransformerLM,
  tokenizer: Tokenizer,
  lines: readonly string[],
  config: PassRateConfig,
): { rate: number; examples: string[] } {
  const fitting = lines.filter((l) => tokenizer.encode(l).length < model.config.contextLen);
  if (fitting.length === 0)
    throw new Error(
      `declarationPassRate(model, tokenizer, lines): no line fits the context of ${model.config.contextLen} tokens`,
    );
  const rng = new Rng(config.seed);
  const newline = tokenizer.encode("\n")[0];
  const examples: string[] = [];
  let pass = 0;
  for (let i = 0; i < config.samples; i++) {
    const prompt = Array.from(tokenizer.encode(fitting[rng.int(fitting.length)].slice(0, 4 + config.promptChars)));
    const budget = model.config.contextLen - prompt.length;
    const out = generate(model, prompt, budget, { topK: 1 }, rng);
    const end = out.indexOf(newline);
    const line = tokenizer.decode([...prompt, ...(end >= 0 ? out.slice(0, end) : out)]);
    examples.push(line);
    if (isCompleteMember(line)) pass++;
  }
  return { rate: pass / config.samples, examples };
}
