// The PyTorch script (Debian's python3-torch under /usr/bin/python3): answers a tiny GEMM, MLP and transformer with
// valid JSON, reports a bad request as an error reply, builds a transformer twin equal to the lab's TransformerLM (same
// parameter count, same losses from the same weights), and the engine says "not installed" without an interpreter.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { TorchProcess, torchEngine, DEFAULT_TORCH_CONFIG } from "../../lib/bench/torch";
import { torchScript } from "../../lib/bench/paths";
import { benchCases } from "../../lib/bench/workloads";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/backend-select";
import { seed } from "../../lib/random";
import { countParams } from "../../lib/model/config";
import { disposeBatch } from "../../lib/bench/models/common";
import { BenchTransformer, transformerBatch, type TransformerPatch } from "../../lib/bench/models/transformer";
import { lmBatch, lmFitConfig } from "../../lib/bench/models/lm-fit";
import { lmConfig, type LMConfig } from "../../lib/model/config";
import { TransformerLM } from "../../lib/model/transformer";
import { fit } from "../../lib/train/fit";
import { TINY_MLP, tinyTransformer } from "./tiny-cases";

/** Tiny dense and MoE TransformerLMs (the bench's LM suite at test size). */
const TINY_LM = { vocabSize: 13, dim: 16, nHeads: 2, nLayers: 2, contextLen: 8, ffnHidden: 20 } as const;
const tinyLm: LMConfig[] = [
  lmConfig({ ...TINY_LM, ffn: "dense" }),
  lmConfig({ ...TINY_LM, ffn: "moe", moe: { nRouted: 4, topK: 2, nShared: 1, expertHidden: 6 } }),
  lmConfig({
    ...TINY_LM,
    ffn: "moe",
    nDenseLayers: 1,
    moe: { nRouted: 4, topK: 2, nShared: 0, expertHidden: 6, scoreFunc: "sigmoid", routeScale: 2.5 },
  }),
];

const tiny = benchCases({
  gemmSizes: [8],
  only: ["gemm", "mlp", "transformer", "lm"],
  lm: tinyLm.slice(0, 2).map((m) => lmFitConfig(m, { batchSize: 2, seqLen: 8, steps: 2 })),
  mlp: TINY_MLP,
  transformer: tinyTransformer(false),
});
const plan = { warmup: 1, warmupMs: 0, repeats: 3 };

describe("bench_torch.py", () => {
  it("prints a JSON reply line per request, with every sample and the train steps' loss", async () => {
    const proc = new TorchProcess({ ...DEFAULT_TORCH_CONFIG, threads: 1 });
    try {
      const hello = await proc.hello();
      expect(hello.ready, hello.error).toBe(true);
      expect(hello.torch).toMatch(/^\d+\.\d+/);
      expect(hello.threads).toBe(1);
      expect(hello.omp_wait_policy).toBe("PASSIVE");
      for (const c of tiny) {
        const r = await proc.measure(c, plan);
        expect(r.samples_ms, c.id).toHaveLength(3);
        expect(r.cores! > 0 && Number.isFinite(r.cores), `${c.id} cores ${r.cores}`).toBe(true);
        if (c.workload.kind === "gemm") expect(r.loss).toBeNull();
        else expect(Number.isFinite(r.loss), `${c.id} loss ${r.loss}`).toBe(true);
      }
      const bad = { ...tiny[0], workload: { kind: "nope" } } as unknown as (typeof tiny)[0];
      await expect(proc.measure(bad, plan)).rejects.toThrow(/PyTorch: ValueError: workload.kind must be/);
    } finally {
      await proc.close();
    }
  });

  it("the transformer twin equals the lab's TransformerLM: same parameter count, same losses on shared weights", async () => {
    await useBackend("cpu");
    const proc = new TorchProcess({ ...DEFAULT_TORCH_CONFIG, threads: 1 });
    try {
      expect((await proc.hello()).ready).toBe(true);
      const variants: TransformerPatch["model"][] = [
        { vocabSize: 11, dim: 8, nHeads: 2, nLayers: 2, contextLen: 7, ffnHidden: 12 }, // learned positions, RMSNorm, tied
        {
          vocabSize: 13,
          dim: 12,
          nHeads: 3,
          nLayers: 1,
          contextLen: 9,
          ffnHidden: 10,
          positions: "rope",
          norm: "layernorm",
          tiedHead: false,
        },
      ];
      for (const model of variants) {
        const [c] = benchCases({
          only: ["transformer"],
          transformer: { model, seqLen: 6, batchSize: 2, adam: { epsilon: 1e-3 } },
        });
        const before = tf.memory().numTensors;
        seed(3);
        const lab = new BenchTransformer(c.workload.kind === "transformer" ? c.workload.config : {});
        const batch = transformerBatch(lab.config);
        const weights = Object.fromEntries(
          Object.entries(lab.params).map(([name, v]) => [name, Array.from(v.dataSync())]),
        );
        const check = { weights, inputs: batch.inputs.arraySync(), targets: batch.targets.arraySync(), steps: 3 };
        const labLosses = [lab.trainStep(batch), lab.trainStep(batch), lab.trainStep(batch)];
        const twin = await proc.checkTwin(c, check);
        expect(twin.params, JSON.stringify(model)).toBe(lab.lm.numParams());
        expect(twin.params).toBe(countParams(lab.config.model).total);
        expect(
          Math.abs(twin.losses[0] - labLosses[0]) / labLosses[0],
          `first-step loss ${twin.losses[0]} vs ${labLosses[0]}`,
        ).toBeLessThan(1e-6);
        for (let i = 1; i < 3; i++)
          expect(Math.abs(twin.losses[i] - labLosses[i]) / labLosses[i], `loss after ${i} Adam steps`).toBeLessThan(
            1e-4,
          );
        expect(labLosses[2]).toBeLessThan(labLosses[0]);
        lab.dispose();
        disposeBatch(batch);
        expect(tf.memory().numTensors).toBe(before);
      }
    } finally {
      await proc.close();
    }
  });

  it.each(["cpu", "native"] as const)(
    "the LM-through-fit twin equals lab.train.fit on TransformerLM (dense, MoE, sigmoid MoE after a dense layer) on %s",
    async (backend) => {
      await useBackend(backend); // native: the fused attention, RoPE, add + RMSNorm kernels the benchmark runs
      const proc = new TorchProcess({ ...DEFAULT_TORCH_CONFIG, threads: 1 });
      try {
        expect((await proc.hello()).ready).toBe(true);
        for (const model of tinyLm) {
          const config = lmFitConfig(model, { batchSize: 3, seqLen: 8, steps: 3, learningRate: 1e-2 });
          const [c] = benchCases({ only: ["lm"], lm: [config] });
          const before = tf.memory().numTensors;
          seed(5);
          const lm = new TransformerLM(model);
          const batch = lmBatch(config);
          const weights = Object.fromEntries(
            [...lm.namedParameters()].map(([name, v]) => [name, Array.from(v.dataSync())]),
          );
          const check = { weights, inputs: batch.inputs.arraySync(), targets: batch.targets.arraySync(), steps: 3 };
          const run = await fit({
            module: lm,
            loss: (b: typeof batch) => lm.stepLoss(b.inputs, b.targets),
            batches: () => ({ inputs: tf.clone(batch.inputs), targets: tf.clone(batch.targets) }),
            config: {
              steps: 3,
              schedule: { kind: "constant", lr: config.learningRate, warmupSteps: 0 },
              optimizer: config.optimizer,
              clipNorm: config.clipNorm,
              seed: 0,
            },
          });
          const labLosses = run.history.map((h) => h.loss);
          const twin = await proc.checkTwin(c, check);
          const what = `${model.ffn} ${model.moe.scoreFunc ?? ""}`;
          expect(twin.params, what).toBe(lm.numParams());
          expect(
            Math.abs(twin.losses[0] - labLosses[0]) / labLosses[0],
            `${what}: first-step loss ${twin.losses[0]} vs ${labLosses[0]}`,
          ).toBeLessThan(1e-6);
          for (let i = 1; i < 3; i++)
            expect(
              Math.abs(twin.losses[i] - labLosses[i]) / labLosses[i],
              `${what}: loss after ${i} fit steps`,
            ).toBeLessThan(1e-4);
          expect(labLosses[2]).toBeLessThan(labLosses[0]);
          lm.dispose();
          disposeBatch(batch);
          expect(tf.memory().numTensors).toBe(before);
        }
      } finally {
        await proc.close();
      }
    },
  );

  it("runs one-shot from a pipe: the protocol is plain JSON lines", () => {
    const input = `${JSON.stringify({ id: 7, workload: tiny[0].workload, warmup: 0, repeats: 2 })}\n`;
    const r = spawnSync(DEFAULT_TORCH_CONFIG.python, [torchScript(), "--threads", "1"], {
      input,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ id: 7, loss: null });
    expect(lines[1].samples_ms).toHaveLength(2);
  });

  it("as an engine: 'not installed' when the interpreter or torch is missing", async () => {
    const engine = torchEngine({ python: "/nonexistent/python3" });
    expect(await engine.open()).toMatch(/^not installed \(\/nonexistent\/python3: bench_torch.py exited/);
    await engine.close();
    // An interpreter where `import torch` fails: the script says so on its first line and exits.
    const dir = await mkdtemp(path.join(os.tmpdir(), "moelab-notorch-"));
    try {
      const python = path.join(dir, "python3");
      await writeFile(
        python,
        `#!/bin/sh\nexec /usr/bin/python3 -c "import sys; sys.modules['torch'] = None; sys.argv = sys.argv[1:]; exec(open(sys.argv[0]).read())" "$@"\n`,
        { mode: 0o755 },
      );
      const noTorch = torchEngine({ python });
      expect(await noTorch.open()).toMatch(
        /^not installed \(import of torch halted.*; apt-get install python3-torch\)$/,
      );
      await noTorch.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
