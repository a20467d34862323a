// Hand a plan to the engines that run at scale: Megatron-LM command-line flags and a launch script (pretrain_gpt.py
// under torchrun), and a DeepSpeed config JSON. Flag names are those of megatron/training/arguments.py (checked in
// test/plan/launch.test.ts against test/fixtures/megatron-arguments.json, made by scripts/megatron-flags.py).
// References: Megatron-LM arguments.py @ 93da8004; DeepSpeed @ 38327e07 (runtime/constants.py, zero/config.py,
// activation_checkpointing/config.py; keys checked against test/fixtures/deepspeed-config-keys.json).
import type { Cluster } from "./cluster";
import { worldSize } from "./cluster";
import { PlanError, ResolvedPlan } from "./parallel";
import type { ModelShape } from "./shapes";

/** The Megatron-LM commit whose arguments.py the flags were checked against. */
export const MEGATRON_COMMIT = "93da800461fd4f6a8262c3bab227868b966aaa69";

/** Megatron-LM arguments for `shape` trained with `plan`, as [flag, value?] pairs in command-line order. */
export function megatronArgs(shape: ModelShape, plan: ResolvedPlan): string[] {
  if (plan.schedule === "dualpipe") {
    throw new PlanError(
      "dualpipe",
      `Megatron-LM (arguments.py @ ${MEGATRON_COMMIT.slice(0, 8)}) has no DualPipe schedule; choose 1f1b or interleaved`,
    );
  }
  const a: string[] = [];
  const add = (flag: string, value?: string | number) => a.push(flag, ...(value === undefined ? [] : [String(value)]));
  add("--num-layers", shape.layers);
  add("--hidden-size", shape.hidden);
  add("--num-attention-heads", shape.heads);
  add("--ffn-hidden-size", shape.ffnHidden);
  add("--seq-length", shape.seqLen);
  add("--max-position-embeddings", shape.seqLen);
  add("--vocab-size", shape.vocab);
  add("--normalization", shape.norm === "rmsnorm" ? "RMSNorm" : "LayerNorm");
  add("--position-embedding-type", shape.positionEmbeddings ? "learned_absolute" : "rope");
  if (shape.ffnKind === "swiglu") add("--swiglu");
  if (!shape.bias) add("--disable-bias-linear");
  if (!shape.tiedEmbeddings) add("--untie-embeddings-and-output-weights");
  const at = shape.attention;
  if (at.kind === "mha" && at.kvHeads !== shape.heads) {
    add("--group-query-attention");
    add("--num-query-groups", at.kvHeads);
  }
  if (at.kind === "mla") {
    add("--multi-latent-attention");
    if (at.qLoraRank > 0) add("--q-lora-rank", at.qLoraRank);
    add("--kv-lora-rank", at.kvLoraRank);
    add("--qk-head-dim", at.qkNopeDim);
    add("--qk-pos-emb-head-dim", at.qkRopeDim);
    add("--v-head-dim", at.vDim);
  }
  if (shape.moe) {
    const m = shape.moe;
    add("--num-experts", m.nRouted);
    add("--moe-router-topk", m.topK);
    add("--moe-ffn-hidden-size", m.expertHidden);
    if (m.nShared > 0) add("--moe-shared-expert-intermediate-size", m.nShared * m.expertHidden);
    add("--moe-layer-freq", `([0]*${m.nDenseLayers}+[1]*${shape.layers - m.nDenseLayers})`);
    if (m.nGroups > 1) {
      add("--moe-router-num-groups", m.nGroups);
      add("--moe-router-group-topk", m.topkGroups);
    }
    add("--moe-router-score-function", m.scoreFunc);
    if (m.scoreFunc === "softmax" && !m.renormalize) add("--moe-router-pre-softmax"); // softmax over all experts, then top-k
    if (m.scoreFunc === "sigmoid" && !m.renormalize) {
      throw new PlanError(
        "value",
        "Megatron-LM renormalises sigmoid top-k weights; a sigmoid router without renormalisation has no flag",
      );
    }
    if (m.routeScale !== 1) add("--moe-router-topk-scaling-factor", m.routeScale);
    if (m.expertBias) add("--moe-router-enable-expert-bias");
    add("--moe-token-dispatcher-type", "alltoall");
    add("--moe-grouped-gemm");
    add("--expert-model-parallel-size", plan.ep);
    add("--expert-tensor-parallel-size", plan.etp);
  }
  add("--tensor-model-parallel-size", plan.tp);
  add("--pipeline-model-parallel-size", plan.pp);
  if (plan.schedule === "interleaved")
    add("--num-layers-per-virtual-pipeline-stage", shape.layers / (plan.pp * plan.virtualStages));
  if (plan.sp && plan.tp > 1) add("--sequence-parallel");
  if (plan.recompute !== "none") add("--recompute-granularity", plan.recompute);
  if (plan.recompute === "full") {
    add("--recompute-method", "uniform");
    add("--recompute-num-layers", 1);
  }
  if (plan.zero === 1) add("--use-distributed-optimizer"); // ZeRO-1; stages 2–3 through Megatron's own FSDP
  if (plan.zero >= 2) {
    add("--use-megatron-fsdp");
    add("--data-parallel-sharding-strategy", plan.zero === 2 ? "optim_grads" : "optim_grads_params");
  }
  add("--micro-batch-size", plan.microBatch);
  add("--global-batch-size", plan.globalBatch);
  add("--bf16");
  return a;
}

/** A bash launch script: torchrun over the cluster's nodes running Megatron-LM's pretrain_gpt.py with megatronArgs. */
export function megatronLaunchScript(shape: ModelShape, plan: ResolvedPlan, c: Cluster): string {
  if (plan.world !== worldSize(c))
    throw new PlanError("world-size", `plan uses ${plan.world} GPUs, cluster has ${worldSize(c)}`);
  const args = megatronArgs(shape, plan);
  const lines: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    lines.push(
      next !== undefined && !next.startsWith("--")
        ? `  ${args[i]} ${/[()*[\]+]/.test(next) ? `"${next}"` : next}`
        : `  ${args[i]}`,
    );
    if (next !== undefined && !next.startsWith("--")) i++;
  }
  return [
    "#!/bin/bash",
    `# ${shape.name}: DP ${plan.dp} × TP ${plan.tp} × PP ${plan.pp}${shape.moe ? `, EP ${plan.ep}` : ""} on ${c.nodes} × ${c.gpusPerNode} ${c.gpu.name}`,
    `# Megatron-LM flags as in megatron/training/arguments.py @ ${MEGATRON_COMMIT}. Set MASTER_ADDR, NODE_RANK, and the data/tokenizer flags.`,
    "set -euo pipefail",
    `torchrun --nnodes ${c.nodes} --nproc-per-node ${c.gpusPerNode} --node-rank "$NODE_RANK" --master-addr "$MASTER_ADDR" --master-port 6000 \\`,
    "  pretrain_gpt.py \\",
    lines.join(" \\\n") + ' \\\n  "$@"',
    "",
  ].join("\n");
}

/** The DeepSpeed config JSON for the plan's batch, precision, ZeRO stage and activation checkpointing. TP/PP/EP are
 * set in the model code (Megatron-DeepSpeed flags, deepspeed.moe ep_size), not in this file. */
export function deepspeedConfig(plan: ResolvedPlan): Record<string, unknown> {
  if (plan.pp > 1 && plan.zero >= 2) {
    throw new PlanError(
      "value",
      `DeepSpeed's pipeline engine supports ZeRO stage 0 or 1 only ("ZeRO-2 and ZeRO-3 are incompatible with pipeline parallelism", deepspeed/runtime/pipe/engine.py; plan: pp = ${plan.pp}, zero = ${plan.zero})`,
    );
  }
  const zero: Record<string, unknown> = { stage: plan.zero };
  if (plan.zero >= 1)
    Object.assign(zero, { overlap_comm: plan.overlapDp, contiguous_gradients: true, reduce_scatter: true });
  return {
    train_batch_size: plan.globalBatch,
    train_micro_batch_size_per_gpu: plan.microBatch,
    gradient_accumulation_steps: plan.microBatches,
    bf16: { enabled: true },
    zero_optimization: zero,
    activation_checkpointing: {
      partition_activations: plan.sp,
      contiguous_memory_optimization: plan.recompute === "full",
      cpu_checkpointing: false,
    },
  };
}
