// Module: the parameter container every layer, model and policy in the lab builds on. Parameters are tf.Variables
// with dotted names ("layers.0.ffn.w1.weight"), the names checkpoints (safetensors) and optimizers use.
// Reference: torch.nn.Module's named_parameters / state_dict naming.
import * as tf from "@tensorflow/tfjs";

/** A tree of named parameters and child modules. Subclasses register them in their constructor. */
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

  /**
   * Checks that `state` (name → values) fits this module: the same names, and per name the same shape and dtype.
   * Throws one error listing every mismatch; assigns nothing.
   */
  checkStateDict(state: ReadonlyMap<string, tf.Tensor>): void {
    const fn = "loadStateDict(state)";
    const mine = this.stateDict();
    const missing = [...mine.keys()].filter((k) => !state.has(k));
    const extra = [...state.keys()].filter((k) => !mine.has(k));
    if (missing.length || extra.length) {
      throw new Error(`${fn}: missing [${missing.join(", ")}], unexpected [${extra.join(", ")}]`);
    }
    const wrong: string[] = [];
    for (const [name, v] of mine) {
      const t = state.get(name)!;
      if (!tf.util.arraysEqual(t.shape, v.shape)) wrong.push(`"${name}" has shape [${t.shape}], expected [${v.shape}]`);
      else if (t.dtype !== v.dtype) wrong.push(`"${name}" has dtype ${t.dtype}, expected ${v.dtype}`);
    }
    if (wrong.length) throw new Error(`${fn}: ${wrong.join("; ")}; nothing was loaded`);
  }

  /** Copies `state` (name → values) into this module's variables. Everything is checked first (checkStateDict): on a
   * mismatch no variable changes. */
  loadStateDict(state: ReadonlyMap<string, tf.Tensor>): void {
    this.checkStateDict(state);
    for (const [name, v] of this.stateDict()) v.assign(state.get(name)!);
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
