// Module: the parameter container every layer, model and policy in the lab builds on. Parameters are tf.Variables
// with dotted names ("layers.0.ffn.w1.weight"), the names checkpoints (safetensors) and optimizers use.
// Reference: torch.nn.Module's named_parameters / state_dict naming.
import * as tf from "@tensorflow/tfjs";

/**
 * A tree of named parameters and child modules. Subclasses register them in their constructor.
 *
 * The call convention: every module that computes is called with `apply(input, ...context)` and returns its output
 * (Linear, norms, SwiGLU, MoELayer: [..., d] → [..., d]; Block → { x, moe }; TransformerLM: tokens → logits;
 * ActorCritic: observations → action log-probabilities). Modules whose training needs more than the output also have
 * `forward`, which returns all of it (MoELayer: y + aux loss + loads; TransformerLM: logits + aux loss + loads;
 * ActorCritic: log-probabilities + values). Pure containers (a numbered list of blocks) have no call, as in torch.
 */
export abstract class Module {
  private readonly ownParams = new Map<string, tf.Variable>();
  private readonly ownBuffers = new Map<string, tf.Variable>();
  private readonly children = new Map<string, Module>();

  /** Registers `init` as a variable named `name` (trainable unless told otherwise) and returns it. Takes ownership of `init`. */
  protected param(name: string, init: tf.Tensor, trainable = true): tf.Variable {
    this.checkName(name);
    const v = tf.variable(init, trainable);
    init.dispose();
    this.ownParams.set(name, v);
    return v;
  }

  /** Registers a non-trainable state variable (a router bias updated by a rule, running statistics). Takes ownership. */
  protected buffer(name: string, init: tf.Tensor): tf.Variable {
    this.checkName(name);
    const v = tf.variable(init, false);
    init.dispose();
    this.ownBuffers.set(name, v);
    return v;
  }

  /** Registers a child module under `name` and returns it. */
  protected child<M extends Module>(name: string, module: M): M {
    this.checkName(name);
    this.children.set(name, module);
    return module;
  }

  private checkName(name: string): void {
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`Module: name must match [A-Za-z0-9_]+, got "${name}"`);
    if (this.ownParams.has(name) || this.ownBuffers.has(name) || this.children.has(name)) {
      throw new Error(`Module: "${name}" is already registered`);
    }
  }

  /** Trainable and frozen parameters by dotted name, in registration order (children after own). */
  namedParameters(prefix = ""): Map<string, tf.Variable> {
    return this.collect(prefix, (m) => m.ownParams);
  }

  /** Every descendant module by dotted name ("layers.0.attn.wqkv"), parents before children (torch's named_modules, root left out). */
  namedModules(prefix = ""): Map<string, Module> {
    const out = new Map<string, Module>();
    for (const [name, m] of this.children) {
      out.set(prefix + name, m);
      for (const [k, v] of m.namedModules(`${prefix}${name}.`)) out.set(k, v);
    }
    return out;
  }

  /** Non-trainable state by dotted name. */
  namedBuffers(prefix = ""): Map<string, tf.Variable> {
    return this.collect(prefix, (m) => m.ownBuffers);
  }

  /** Parameters and buffers by dotted name: everything a checkpoint saves. */
  stateDict(): Map<string, tf.Variable> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** The trainable variables (what an optimizer updates). */
  trainableVariables(): tf.Variable[] {
    return [...this.namedParameters().values()].filter((v) => v.trainable);
  }

  /** Total number of parameter elements (buffers excluded). */
  numParams(): number {
    let n = 0;
    for (const v of this.namedParameters().values()) n += v.size;
    return n;
  }

  /** Copies `state` (name → values) into this module's variables; every name and shape must match. */
  loadStateDict(state: ReadonlyMap<string, tf.Tensor>): void {
    const mine = this.stateDict();
    const missing = [...mine.keys()].filter((k) => !state.has(k));
    const extra = [...state.keys()].filter((k) => !mine.has(k));
    if (missing.length || extra.length) {
      throw new Error(`loadStateDict(state): missing [${missing.join(", ")}], unexpected [${extra.join(", ")}]`);
    }
    for (const [name, v] of mine) {
      const t = state.get(name)!;
      if (!tf.util.arraysEqual(t.shape, v.shape)) {
        throw new Error(`loadStateDict(state): "${name}" has shape [${t.shape}], expected [${v.shape}]`);
      }
      v.assign(t.dtype === v.dtype ? t : tf.cast(t, v.dtype));
    }
  }

  /** Frees every variable of the tree. */
  dispose(): void {
    for (const v of this.stateDict().values()) v.dispose();
  }

  private collect(prefix: string, pick: (m: Module) => Map<string, tf.Variable>): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const [name, v] of pick(this)) out.set(prefix + name, v);
    for (const [name, m] of this.children) for (const [k, v] of m.collect(`${prefix}${name}.`, pick)) out.set(k, v);
    return out;
  }
}
