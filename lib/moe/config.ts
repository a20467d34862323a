// MoE configuration: the router (gate) settings, the layer settings, their defaults, presets and checks.
// Reference: DeepSeek-V3 inference/model.py ModelArgs/Gate (n_routed_experts, n_activated_experts, n_expert_groups,
// n_limited_groups, score_func, route_scale), Switch Transformer (capacity factor), GShard/DeepSpeed (top-2, min
// capacity), Zhou et al. 2022 (expert choice).
import { checkPositiveInt, checkRange, withDefaults } from "../check";

/** How a token's affinity to each expert is scored. */
export type ScoreFunc = "softmax" | "sigmoid";

/** The functional gate's settings: `gate(x, weight, bias, config)`. */
export interface GateConfig {
  /** Experts each token selects (k). */
  topK: number;
  /** Affinity function: softmax over experts (V2, Switch, Mixtral) or per-expert sigmoid (V3). */
  scoreFunc: ScoreFunc;
  /** Expert groups for group-limited routing (V3: 8); 1 = no grouping. Must divide the number of experts. */
  nGroups: number;
  /** Groups each token may route into (V3: 4); the others are masked with −inf. At most nGroups. */
  topkGroups: number;
  /** Factor applied to the final weights (V3: 2.5). */
  routeScale: number;
  /** Renormalise the k selected weights to sum to 1; null = DeepSeek-V3's rule (only for sigmoid). */
  renormalize: boolean | null;
}

export const DEFAULT_GATE: Readonly<GateConfig> = Object.freeze({
  topK: 2,
  scoreFunc: "softmax",
  nGroups: 1,
  topkGroups: 1,
  routeScale: 1,
  renormalize: null,
});

/** The gate's fields of a larger config (an MoEConfig), for gate(x, weight, bias, config). */
export function gateFields(config: Readonly<GateConfig>): GateConfig {
  const { topK, scoreFunc, nGroups, topkGroups, routeScale, renormalize } = config;
  return { topK, scoreFunc, nGroups, topkGroups, routeScale, renormalize };
}

/** Router presets as data (the gate's part of each reference model). Mixtral = GShard's weights: softmax over the top-k. */
export const ROUTER_PRESETS: Readonly<Record<string, Readonly<GateConfig>>> = Object.freeze({
  /** Switch Transformer: top-1 softmax, the selected probability as weight. */
  switch: Object.freeze({ ...DEFAULT_GATE, topK: 1, renormalize: false }),
  /** GShard top-2: softmax, the two gates renormalised. */
  gshard: Object.freeze({ ...DEFAULT_GATE, topK: 2, renormalize: true }),
  /** Mixtral 8×7B: top-2, softmax over the two selected logits (= renormalised full softmax). */
  mixtral: Object.freeze({ ...DEFAULT_GATE, topK: 2, renormalize: true }),
  /** DeepSeek-V2-Lite: 64 routed, top-6, softmax, weights not renormalised. */
  deepseekV2Lite: Object.freeze({ ...DEFAULT_GATE, topK: 6, scoreFunc: "softmax" as const, renormalize: null }),
  /** DeepSeek-V3: 256 routed, top-8, sigmoid, 8 groups keep 4, route_scale 2.5. */
  deepseekV3: Object.freeze({
    topK: 8,
    scoreFunc: "sigmoid" as const,
    nGroups: 8,
    topkGroups: 4,
    routeScale: 2.5,
    renormalize: null,
  }),
});

/** Whether the gate renormalises the selected weights (explicit setting, else V3's rule: sigmoid only). */
export function renormalizes(config: GateConfig): boolean {
  return config.renormalize ?? config.scoreFunc === "sigmoid";
}

/** Throws, naming the argument, unless `config` is a valid gate for `nExperts` experts (`biased`: a selection bias is used). */
export function checkGateConfig(
  fn: string,
  config: GateConfig,
  nExperts: number,
  biased: boolean,
  path = "config.",
): void {
  checkPositiveInt(fn, "nExperts", nExperts);
  checkPositiveInt(fn, `${path}topK`, config.topK);
  if (config.topK > nExperts)
    throw new Error(`${fn}: ${path}topK must be at most the number of experts ${nExperts}, got ${config.topK}`);
  if (config.scoreFunc !== "softmax" && config.scoreFunc !== "sigmoid") {
    throw new Error(`${fn}: ${path}scoreFunc must be "softmax" or "sigmoid", got ${JSON.stringify(config.scoreFunc)}`);
  }
  checkPositiveInt(fn, `${path}nGroups`, config.nGroups);
  if (nExperts % config.nGroups !== 0) {
    throw new Error(`${fn}: ${path}nGroups must divide the number of experts ${nExperts}, got ${config.nGroups}`);
  }
  checkPositiveInt(fn, `${path}topkGroups`, config.topkGroups);
  if (config.topkGroups > config.nGroups) {
    throw new Error(
      `${fn}: ${path}topkGroups must be at most ${path}nGroups ${config.nGroups}, got ${config.topkGroups}`,
    );
  }
  const groupSize = nExperts / config.nGroups;
  if (config.nGroups > 1 && config.topK > config.topkGroups * groupSize) {
    throw new Error(
      `${fn}: ${path}topK must be at most ${path}topkGroups × experts per group = ${config.topkGroups * groupSize}, got ${config.topK}`,
    );
  }
  if (config.nGroups > 1 && biased && groupSize < 2) {
    throw new Error(
      `${fn}: ${path}nGroups must leave ≥ 2 experts per group when a bias is used (group score = sum of top-2), got ${config.nGroups} groups of ${nExperts}`,
    );
  }
  if (!(Number.isFinite(config.routeScale) && config.routeScale > 0)) {
    throw new Error(`${fn}: ${path}routeScale must be a finite number > 0, got ${config.routeScale}`);
  }
}

/** Which side chooses: tokens pick their top-k experts, or experts pick their top-capacity tokens. */
export type Routing = "token-choice" | "expert-choice";

/** The balancing method the layer applies. */
export type BalanceMethod = "none" | "switch" | "sequence" | "mse" | "auxfree";

/** How routed experts run: dispatch only routed tokens, or the articles' all-experts-on-all-tokens reference. */
export type ExpertImpl = "dispatch" | "naive";

/** MoE layer settings (DeepSeekMoE: shared + fine-grained routed SwiGLU experts). */
export interface MoEConfig extends GateConfig {
  /** Routed experts E. Default 8. */
  nRouted: number;
  /** Shared (always-on) experts, run as one SwiGLU of width nShared·expertHidden. Default 1; 0 = none. */
  nShared: number;
  /** Hidden width of one expert's SwiGLU; null = the model dim. Default null. */
  expertHidden: number | null;
  /** Token-choice (top-k per token) or expert-choice (top-capacity tokens per expert). Default "token-choice". */
  routing: Routing;
  /** Capacity factor: an expert keeps ceil(k·T/E·CF) tokens, the rest are dropped; null = dropless. Default null. */
  capacityFactor: number | null;
  /** Smallest capacity (DeepSpeed's min_capacity) when capacityFactor is set. Default 0. */
  minCapacity: number;
  /** Balance method: none, Switch aux loss, DeepSeek sequence-wise loss, MSE to uniform, or aux-loss-free bias. Default "switch". */
  balance: BalanceMethod;
  /** Coefficient α of the balance loss (Switch 1e-2, sequence-wise 1e-4). Default 1e-2. */
  balanceCoef: number;
  /** Coefficient of DeepSeek's device(group)-level balance loss over the nGroups expert groups; 0 = off. Default 0. */
  groupBalanceCoef: number;
  /** Coefficient of the router z-loss (ST-MoE uses 1e-3); 0 = off. Default 0. */
  zLossCoef: number;
  /** γ of the aux-loss-free bias update b += γ·sign(mean load − load) (V3: 1e-3). Default 1e-3. */
  biasUpdateRate: number;
  /** Routed-expert implementation: real dispatch, or the naive all-experts reference. Default "dispatch". */
  impl: ExpertImpl;
  /** Standard deviation of the normal initialisation of gate and experts; null = 1/sqrt(fan-in). Default null. */
  initStd: number | null;
}

export const DEFAULT_MOE: Readonly<MoEConfig> = Object.freeze({
  ...DEFAULT_GATE,
  nRouted: 8,
  nShared: 1,
  expertHidden: null,
  routing: "token-choice" as Routing,
  capacityFactor: null,
  minCapacity: 0,
  balance: "switch" as BalanceMethod,
  balanceCoef: 1e-2,
  groupBalanceCoef: 0,
  zLossCoef: 0,
  biasUpdateRate: 1e-3,
  impl: "dispatch" as ExpertImpl,
  initStd: null,
});

const BALANCE_METHODS: readonly BalanceMethod[] = ["none", "switch", "sequence", "mse", "auxfree"];

/** Resolved configs (moeConfig's results, frozen): a layer takes them as given instead of merging and checking again. */
const RESOLVED = new WeakSet<object>();

/**
 * Merges `partial` over DEFAULT_MOE and checks every field; errors name the caller `fn` and the field as `path` + name
 * (a layer's own config: "MoELayer: config.topK …"; a model's: "lmConfig: moe.topK …"). A config this function
 * returned is frozen and passes through unchanged (resolved once, then handed down as given).
 */
export function moeConfig(partial: Partial<MoEConfig> = {}, fn = "MoELayer", path = "config."): MoEConfig {
  if (RESOLVED.has(partial)) return partial as MoEConfig;
  const config: MoEConfig = withDefaults(fn, DEFAULT_MOE, partial, [], path.slice(0, -1) || "config");
  checkPositiveInt(fn, `${path}nRouted`, config.nRouted);
  checkGateConfig(fn, config, config.nRouted, config.balance === "auxfree", path);
  if (!Number.isSafeInteger(config.nShared) || config.nShared < 0) {
    throw new Error(`${fn}: ${path}nShared must be an integer ≥ 0, got ${config.nShared}`);
  }
  if (config.expertHidden !== null) checkPositiveInt(fn, `${path}expertHidden`, config.expertHidden);
  if (config.routing !== "token-choice" && config.routing !== "expert-choice") {
    throw new Error(
      `${fn}: ${path}routing must be "token-choice" or "expert-choice", got ${JSON.stringify(config.routing)}`,
    );
  }
  if (config.capacityFactor !== null) checkCapacityFactor(fn, config.capacityFactor, path === "config." ? "" : path);
  if (!Number.isSafeInteger(config.minCapacity) || config.minCapacity < 0) {
    throw new Error(`${fn}: ${path}minCapacity must be an integer ≥ 0, got ${config.minCapacity}`);
  }
  if (!BALANCE_METHODS.includes(config.balance)) {
    throw new Error(
      `${fn}: ${path}balance must be one of ${BALANCE_METHODS.join(", ")}, got ${JSON.stringify(config.balance)}`,
    );
  }
  for (const key of ["balanceCoef", "groupBalanceCoef", "zLossCoef", "biasUpdateRate"] as const) {
    checkRange(fn, `${path}${key}`, config[key], 0, Number.MAX_VALUE);
  }
  if (config.impl !== "dispatch" && config.impl !== "naive") {
    throw new Error(`${fn}: ${path}impl must be "dispatch" or "naive", got ${JSON.stringify(config.impl)}`);
  }
  if (config.initStd !== null) checkRange(fn, `${path}initStd`, config.initStd, 0, Number.MAX_VALUE);
  RESOLVED.add(Object.freeze(config));
  return config;
}

/** Parameter counts of one MoE layer of width `dim` (the one place they are derived; router biases are buffers). */
export interface MoEParamCounts {
  /** Router weight E·dim. */
  gate: number;
  /** One routed SwiGLU expert 3·dim·h. */
  perExpert: number;
  /** The shared SwiGLU 3·dim·(nShared·h). */
  shared: number;
  /** gate + E routed experts + shared. */
  total: number;
  /** What one token uses: gate + topK routed experts + shared. */
  active: number;
}

/** Counts the parameters of an MoE layer of width `dim` with the resolved `config` (h = expertHidden ?? dim). */
export function moeParamCounts(dim: number, config: MoEConfig): MoEParamCounts {
  const perExpert = 3 * dim * (config.expertHidden ?? dim);
  const gate = config.nRouted * dim;
  const shared = config.nShared * perExpert;
  return {
    gate,
    perExpert,
    shared,
    total: gate + config.nRouted * perExpert + shared,
    active: gate + config.topK * perExpert + shared,
  };
}

/** Throws unless the capacity factor is a finite number > 0. */
export function checkCapacityFactor(fn: string, capacityFactor: number, path = ""): void {
  if (!(Number.isFinite(capacityFactor) && capacityFactor > 0)) {
    throw new Error(`${fn}: ${path}capacityFactor must be a finite number > 0, got ${capacityFactor}`);
  }
}

/** Tokens one expert keeps: max(minCapacity, ceil(k·T/E·CF)) (Switch: k = 1; GShard/DeepSpeed top-2: doubled). */
export function expertCapacity(
  tokens: number,
  nExperts: number,
  topK: number,
  capacityFactor: number,
  minCapacity = 0,
): number {
  checkCapacityFactor("expertCapacity", capacityFactor);
  return Math.max(minCapacity, Math.ceil(((topK * tokens) / nExperts) * capacityFactor));
}
