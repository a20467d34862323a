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

  /**
   * A PyTorch-like summary: the module tree (class names, child names, each parameter's and buffer's shape, frozen
   * parameters marked), parameter counts per module, and the totals. Runs of identical numbered children (layers,
   * experts) are folded into one line "(0-7): 8 × …". Also what toString(), util.inspect (Node's REPL, console.log)
   * and the notebook's text output show.
   */
  summary(): string {
    const params = [...this.namedParameters().values()];
    const trainable = params.filter((v) => v.trainable).reduce((n, v) => n + v.size, 0);
    const buffers = [...this.namedBuffers().values()].reduce((n, v) => n + v.size, 0);
    const total =
      `${count(this.numParams())} parameters (${count(trainable)} trainable)` +
      (buffers ? `, ${count(buffers)} buffer elements` : "");
    return [...this.summaryLines(), total].join("\n");
  }

  toString(): string {
    return this.summary();
  }

  /** Node's util.inspect hook (console.log, the REPL, the kernel's text/plain of a cell's value). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.summary();
  }

  private summaryLines(): string[] {
    const name = this.constructor.name;
    const own = [
      ...[...this.ownParams].map(([n, v]) => `${n}: [${v.shape.join(", ")}]${v.trainable ? "" : " frozen"}`),
      ...[...this.ownBuffers].map(([n, v]) => `${n}: [${v.shape.join(", ")}] buffer`),
    ];
    const params = this.numParams();
    if (this.children.size === 0) return [`${name}(${own.join(", ")})${params ? ` · ${count(params)}` : ""}`];
    const kids = [...this.children].map(([n, m]) => ({ n, lines: m.summaryLines() }));
    const body: string[] = [...own];
    for (let i = 0; i < kids.length;) {
      let j = i + 1;
      const numbered = (k: number) =>
        String(Number(kids[k].n)) === kids[k].n && Number(kids[k].n) === Number(kids[i].n) + (k - i);
      while (j < kids.length && numbered(i) && numbered(j) && kids[j].lines.join("\n") === kids[i].lines.join("\n"))
        j++;
      const label = j - i > 1 ? `(${kids[i].n}-${kids[j - 1].n}): ${j - i} × ` : `(${kids[i].n}): `;
      body.push(label + kids[i].lines[0], ...kids[i].lines.slice(1));
      i = j;
    }
    return [`${name}( · ${count(params)}`, ...body.map((l) => `  ${l}`), ")"];
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

/** 123456 → "123,456". */
function count(n: number): string {
  return n.toLocaleString("en-US");
}
