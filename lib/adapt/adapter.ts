// Attaching LoRA to a model: find the target modules by name (PEFT's target_modules rule), freeze every base
// parameter, hook an adapter into each target (Linear layers, routed experts' stacked projections), and keep the
// adapters in one Module whose parameters are the only trainable ones (what lab.train.fit optimises: pass the
// adapter as fit's module). Merge folds B·A into the base weights, unmerge takes it out, remove restores the model.
// QLoRA: the targets' base weights are quantized (INT4 g128 by default) and computed with dequantized on use.
// Reference: HF PEFT tuners/lora/model.py (inject_adapter, _mark_only_adapters_as_trainable, merge_and_unload).
import * as tf from "@tensorflow/tfjs";
import { Linear } from "../nn/linear";
import { Module } from "../nn/module";
import { EXPERT_PROJECTIONS, RoutedExperts } from "../moe/experts";
import type { ExpertProjection } from "../moe/experts";
import { QuantConfig, QuantizedTensor, quantize } from "../quant/quantized-tensor";
import { DEFAULT_QLORA_QUANT, LoraConfig, loraConfig, matchesTarget } from "./config";
import { LoraExperts, LoraLinear, LoraMode } from "./lora";

/** Options of applyLora beyond the LoRA config. */
export interface ApplyLoraOptions {
  /** QLoRA: quantize every target's frozen base weight with this config (merged over INT4 g128, fp16 scales); null = fp32 base. */
  quantizeBase: Partial<QuantConfig> | null;
}

/** A module of the adapter tree: holds children by name (the adapter's parameter names mirror the model's). */
class AdapterNode extends Module {
  add<M extends Module>(name: string, m: M): M {
    return this.child(name, m);
  }
}

/** What can be adapted, by dotted name: Linear layers and routed experts' projections ("….experts.w1"). */
export function adaptableModules(
  model: Module,
): Map<string, { linear: Linear } | { experts: RoutedExperts; projection: ExpertProjection }> {
  const out = new Map<string, { linear: Linear } | { experts: RoutedExperts; projection: ExpertProjection }>();
  for (const [name, m] of model.namedModules()) {
    if (m instanceof Linear) out.set(name, { linear: m });
    else if (m instanceof RoutedExperts)
      for (const p of EXPERT_PROJECTIONS) out.set(`${name}.${p}`, { experts: m, projection: p });
  }
  return out;
}

/** The LoRA adapters of one model: a Module holding only the adapter parameters ("<target>.lora_A.weight", …). */
export class LoraAdapter extends AdapterNode {
  /** Training mode turns the adapter dropout on; evaluation (the default after eval()) turns it off. */
  private readonly mode: LoraMode = { training: true };
  private readonly adapters = new Map<string, LoraLinear | LoraExperts>();
  private readonly frozen = new Map<tf.Variable, boolean>();
  private attached = true;

  /** Use applyLora(). */
  constructor(
    readonly model: Module,
    readonly config: LoraConfig,
    readonly quantConfig: Partial<QuantConfig> | null,
  ) {
    super();
    const fn = "applyLora(model, config)";
    const candidates = adaptableModules(model);
    const names = [...candidates.keys()].filter((n) => matchesTarget(n, config.targetModules));
    const unmatched =
      typeof config.targetModules === "string"
        ? names.length
          ? []
          : [config.targetModules]
        : config.targetModules.filter((t) => ![...candidates.keys()].some((n) => matchesTarget(n, [t])));
    if (unmatched.length) {
      throw new Error(
        `${fn}: targetModules ${JSON.stringify(unmatched)} match no Linear layer or expert projection of the model; adaptable names: ${[...candidates.keys()].join(", ")}`,
      );
    }
    for (const name of names) {
      const c = candidates.get(name)!;
      if ("linear" in c ? c.linear.hook : c.experts.hooks[c.projection])
        throw new Error(`${fn}: "${name}" already has an adapter or hook attached`);
      if (!("linear" in c) && config.dropout > 0)
        throw new Error(
          `${fn}: "${name}" is a routed-experts projection, adapted on its weight, where input dropout does not apply; set config.dropout = 0 or leave the experts out of targetModules`,
        );
    }
    // Quantize every base first (host arrays only): a bad quant config fails before the model is touched.
    const bases = names.map((name) => {
      const c = candidates.get(name)!;
      if (!quantConfig) return null;
      const w = "linear" in c ? c.linear.weight : c.experts[c.projection];
      try {
        return quantize(w, { ...DEFAULT_QLORA_QUANT, ...quantConfig });
      } catch (e) {
        throw new Error(`${fn}: options.quantizeBase cannot quantize "${name}" [${w.shape}]: ${(e as Error).message}`);
      }
    });
    for (const v of model.namedParameters().values()) {
      this.frozen.set(v, v.trainable);
      v.trainable = false;
    }
    for (const [i, name] of names.entries()) {
      const c = candidates.get(name)!;
      const q = bases[i];
      const adapter =
        "linear" in c
          ? new LoraLinear(c.linear, config, this.mode, q)
          : new LoraExperts(c.experts, c.projection, config, q);
      this.place(name, adapter);
      this.adapters.set(name, adapter);
      if ("linear" in c) c.linear.hook = adapter as LoraLinear;
      else c.experts.hooks[c.projection] = adapter as LoraExperts;
    }
  }

  private place(name: string, adapter: Module): void {
    const parts = name.split(".");
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- walks down the tree from this node
    let node: AdapterNode = this;
    for (const p of parts.slice(0, -1)) {
      const existing = node.namedModules().get(p);
      node = existing instanceof AdapterNode ? existing : node.add(p, new AdapterNode());
    }
    node.add(parts[parts.length - 1], adapter);
  }

  /** Dotted names of the adapted modules, in model order. */
  get targets(): string[] {
    return [...this.adapters.keys()];
  }

  /** The adapter of one target. */
  adapterOf(name: string): LoraLinear | LoraExperts {
    const a = this.adapters.get(name);
    if (!a)
      throw new Error(`LoraAdapter.adapterOf(name): "${name}" is not a target; targets: ${this.targets.join(", ")}`);
    return a;
  }

  /** Dropout on (training). */
  train(): this {
    this.mode.training = true;
    return this;
  }

  /** Dropout off (evaluation, generation). */
  eval(): this {
    this.mode.training = false;
    return this;
  }

  private check(fn: string): void {
    if (!this.attached) throw new Error(`LoraAdapter.${fn}: the adapter was removed from its model`);
  }

  /** W₀ += (α/r)·B·A on every target; the model then computes as adapted with its plain weights. */
  merge(): void {
    this.check("merge()");
    for (const [name, a] of this.adapters) {
      if (a.quantizedBase)
        throw new Error(
          `LoraAdapter.merge(): "${name}" has a quantized base (QLoRA); the update cannot be folded into 4-bit codes without requantizing`,
        );
      if (a.merged) throw new Error(`LoraAdapter.merge(): "${name}" is already merged`);
    }
    for (const a of this.adapters.values()) {
      const w = a instanceof LoraLinear ? a.layer.weight : a.experts[a.projection];
      tf.tidy(() => w.assign(tf.add(w, a.deltaWeight())));
      a.merged = true;
    }
  }

  /** W₀ −= (α/r)·B·A on every target (the inverse of merge, to float rounding). */
  unmerge(): void {
    this.check("unmerge()");
    for (const [name, a] of this.adapters)
      if (!a.merged) throw new Error(`LoraAdapter.unmerge(): "${name}" is not merged`);
    for (const a of this.adapters.values()) {
      const w = a instanceof LoraLinear ? a.layer.weight : a.experts[a.projection];
      tf.tidy(() => w.assign(tf.sub(w, a.deltaWeight())));
      a.merged = false;
    }
  }

  /** Detaches every adapter, restores the base parameters' trainable flags and frees the adapter (merged updates stay). */
  remove(): void {
    this.check("remove()");
    for (const a of this.adapters.values()) {
      if (a instanceof LoraLinear) a.layer.hook = null;
      else delete a.experts.hooks[a.projection];
    }
    for (const [v, trainable] of this.frozen) v.trainable = trainable;
    this.attached = false;
    this.dispose();
  }

  /** The quantized bases (QLoRA) by target name; empty for plain LoRA. */
  quantizedBases(): Map<string, QuantizedTensor> {
    const out = new Map<string, QuantizedTensor>();
    for (const [name, a] of this.adapters) if (a.quantizedBase) out.set(name, a.quantizedBase);
    return out;
  }
}

/** Freezes `model` and attaches LoRA adapters to the modules `config.targetModules` names; returns the adapter. */
export function applyLora(
  model: Module,
  config: Partial<LoraConfig> = {},
  options: Partial<ApplyLoraOptions> = {},
): LoraAdapter {
  if (!(model instanceof Module))
    throw new TypeError(`applyLora(model): expected a lab.nn.Module, got ${typeof model}`);
  return new LoraAdapter(model, loraConfig(config, "applyLora(model, config)"), options.quantizeBase ?? null);
}
