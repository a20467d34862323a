// Benchmark engines for the tfjs backends (`native`, `wasm`, `cpu`): the workloads run in this process.
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../backend-select";
import { nativeAddon } from "../native/addon";
import { nativeKernels } from "../native/kernels";
import { seed, randomUniform } from "../random";
import { Engine, EngineName, EngineSamples, RepeatPlan, firstLine } from "./engine";
import { BenchModel, disposeBatch } from "./models/common";
import { LmFitRun } from "./models/lm-fit";
import { Mlp, mlpBatch } from "./models/mlp";
import { BenchTransformer, transformerBatch } from "./models/transformer";
import { KernelProfile, profileKernels } from "./profile";
import { Timing, time, timeWithinBudget } from "./timing";
import type { BenchCase, GemmShape, Workload } from "./workloads";

/** The tfjs backends the benchmark compares. */
export type TfjsBackendName = Extract<EngineName, "native" | "wasm" | "cpu">;

/** Seed of the weights and batches of every tfjs measurement (timing does not depend on it). */
export const BENCH_SEED = 0;

/** A call of a workload on the current backend, and what frees its tensors. */
interface Prepared {
  call: () => unknown;
  /** Train steps: the loss and gradients only (the step without the optimizer update). */
  gradients?: () => unknown;
  dispose: () => void;
}

/**
 * The operands of `s` (stored transposed where flagged) and a call that multiplies them and frees C, like the PyTorch
 * twin (`torch.matmul(a, b)`, result dropped). The cpu, wasm and native backends run a kernel to completion before
 * tf.matMul returns, so no read-back is needed to time it; reading C back would also hand its buffer to the caller
 * and keep the native backend's pool from recycling it, which a training step never does.
 */
function prepareGemm(s: GemmShape): Prepared {
  const lead = s.batch > 1 ? [s.batch] : [];
  const a = randomUniform([...lead, ...(s.transposeA ? [s.k, s.m] : [s.m, s.k])], -1, 1);
  const b = randomUniform([...lead, ...(s.transposeB ? [s.n, s.k] : [s.k, s.n])], -1, 1);
  return {
    call: () => tf.matMul(a, b, s.transposeA, s.transposeB).dispose(),
    dispose: () => tf.dispose([a, b]),
  };
}

/** A train step of `model` on `batch` (both freed by dispose). */
function prepareTrainStep<B extends object>(model: BenchModel<B>, batch: B): Prepared {
  return {
    call: () => model.trainStep(batch),
    gradients: () => {
      const { value, grads } = tf.variableGrads(() => model.loss(batch), Object.values(model.params));
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    },
    dispose: () => {
      model.dispose();
      disposeBatch(batch);
    },
  };
}

/** Builds `w` on the current backend from BENCH_SEED. */
function prepare(w: Workload): Prepared {
  seed(BENCH_SEED);
  switch (w.kind) {
    case "gemm":
      return prepareGemm(w.shape);
    case "mlp": {
      const model = new Mlp(w.config);
      return prepareTrainStep(model, mlpBatch(model.config));
    }
    case "transformer": {
      const model = new BenchTransformer(w.config);
      return prepareTrainStep(model, transformerBatch(model.config));
    }
    case "lm-fit": {
      const run = new LmFitRun(w.config);
      return { call: () => run.call(), dispose: () => run.dispose() };
    }
  }
}

/** A tfjs backend as a benchmark engine. */
export function tfjsEngine(backend: TfjsBackendName): Engine {
  let settings: Record<string, string | number> = {};
  return {
    name: backend,
    async open() {
      try {
        await useBackend(backend);
      } catch (e) {
        return `not available: ${firstLine(e).replace(/^useBackend\(name\): /, "")}`;
      }
      settings = { tfjs: tf.version.tfjs };
      if (backend === "native") {
        const i = nativeAddon()!.info();
        settings = { ...settings, isa: i.isa, threads: i.threads };
      } else if (backend === "wasm") {
        settings.threads = (await import("@tensorflow/tfjs-backend-wasm")).getThreadsCount();
      } else {
        settings.threads = 1;
      }
      return null;
    },
    info: () => ({ ...settings }),
    unsupported: (c: BenchCase) =>
      backend !== "native" && c.workload.kind === "lm-fit"
        ? "the LM-through-fit suite compares native with PyTorch (minutes a call here)"
        : null,
    async measure(c: BenchCase, plan: RepeatPlan): Promise<EngineSamples> {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const p = prepare(c.workload);
      let timing: Timing;
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      try {
        timing = await timeWithinBudget(p.call, plan);
      } finally {
        p.dispose();
      }
      const cpu = process.cpuUsage(cpu0);
      const cores = (cpu.user + cpu.system) / 1e3 / (performance.now() - wall0);
      const leaked = tf.memory().numTensors - before;
      if (leaked !== 0) throw new Error(`tfjs ${backend}: case ${c.id} left ${leaked} tensors behind`);
      const fewer = timing.samples.length < plan.repeats;
      return {
        samples: timing.samples,
        cores,
        note: fewer
          ? `${timing.samples.length} of ${plan.repeats} repeats (slow: budget ${plan.budgetMs / 1000} s)`
          : undefined,
      };
    },
    async close() {},
  };
}

/** Where a train step's time goes: loss and gradients vs the optimizer update (medians of a few calls). */
export interface StepSplit {
  /** The whole train step, ms. */
  stepMs: number;
  /** Forward and backward only (tf.variableGrads), ms. */
  gradientsMs: number;
  /** stepMs − gradientsMs: Adam's update of every parameter, ms. */
  optimizerMs: number;
}

/** A kernel profile of one call of `c` on `backend` (after `warmup` calls), plus the step split of train steps. */
export async function profileTfjsCase(
  backend: TfjsBackendName,
  c: BenchCase,
  warmup = 1,
): Promise<KernelProfile & { split: StepSplit | null }> {
  await useBackend(backend);
  const p = prepare(c.workload);
  try {
    for (let i = 0; i < warmup; i++) p.call();
    const profile = await profileKernels(
      p.call,
      backend === "native" ? [...new Set(nativeKernels.map((k) => k.kernelName))].sort() : null,
    );
    let split: StepSplit | null = null;
    if (p.gradients) {
      const stepMs = (await time(p.call, { warmup: 0, repeats: 3 })).median;
      const gradientsMs = (await time(p.gradients, { warmup: 1, repeats: 3 })).median;
      split = { stepMs, gradientsMs, optimizerMs: stepMs - gradientsMs };
    }
    return { ...profile, split };
  } finally {
    p.dispose();
  }
}
