// The Module base: named parameters, buffers and children, with PyTorch's
// state-dict naming (`blocks.0.attn.qkv.weight`) so that checkpoints move
// between robustok and PyTorch unchanged.
import { type DType, type Device, Tensor, isDType, isFloatingPoint, noGrad, tidy } from '../torch/index.js';

/** Tensors by dotted name, in registration order (as PyTorch's OrderedDict). */
export type StateDict = Record<string, Tensor>;

export interface LoadReport {
  missing: string[];
  unexpected: string[];
  mismatched: { key: string; expected: number[]; got: number[] }[];
}

export class StateDictError extends Error {
  constructor(readonly report: LoadReport, what: string) {
    const parts: string[] = [];
    if (report.missing.length) parts.push(`missing keys: ${report.missing.join(', ')}`);
    if (report.unexpected.length) parts.push(`unexpected keys: ${report.unexpected.join(', ')}`);
    for (const m of report.mismatched) parts.push(`${m.key}: shape [${m.got}] in the checkpoint, [${m.expected}] in the model`);
    super(`loading a state dict into ${what} failed; ${parts.join('; ')}` +
      (report.missing.length > 0 && report.unexpected.length > 0 ? ' (is the checkpoint from another architecture?)' : ''));
    this.name = 'StateDictError';
  }
}

export class Module {
  /** Dropout and batch norm read this; `train()`/`eval()` set it on the whole tree. */
  training = true;
  readonly #params = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, Tensor | null>();
  readonly #transientBuffers = new Set<string>();
  readonly #children = new Map<string, Module>();

  /** Registers a trainable tensor (kept alive outside scopes; gradients on). */
  protected param(name: string, value: Tensor): Tensor;
  protected param(name: string, value: Tensor | null): Tensor | null;
  protected param(name: string, value: Tensor | null): Tensor | null {
    this.#checkName(name);
    if (value !== null) value.keep().requiresGrad_(true);
    this.#params.set(name, value);
    return value;
  }

  /** Registers state that is not trained (running statistics, power-iteration vectors). */
  protected buffer(name: string, value: Tensor | null, persistent = true): Tensor | null {
    this.#checkName(name);
    value?.keep();
    this.#buffers.set(name, value);
    if (!persistent) this.#transientBuffers.add(name);
    return value;
  }

  protected child<M extends Module>(name: string, module: M): M {
    this.#checkName(name);
    this.#children.set(name, module);
    return module;
  }

  /** Drops a registered parameter (spectral norm swaps `weight` for `weight_orig`). */
  protected unregisterParam(name: string): void {
    this.#params.delete(name);
  }

  #checkName(name: string): void {
    if (name === '' || name.includes('.')) throw new Error(`invalid module entry name '${name}'`);
    if (this.#params.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new Error(`'${name}' is already registered on ${this.constructor.name}`);
    }
  }

  // ---- traversal ---------------------------------------------------------------

  /** This module and every descendant, with dotted names ('' for this one). */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, module] of this.#children) yield* module.namedModules(prefix ? `${prefix}.${name}` : name);
  }
  namedChildren(): [string, Module][] {
    return [...this.#children];
  }
  /** Parameters with dotted names; a tensor shared by two modules is listed once. */
  namedParameters(): [string, Tensor][] {
    return this.#collect((m) => m.#params);
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  namedBuffers(): [string, Tensor][] {
    return this.#collect((m) => m.#buffers);
  }

  #collect(pick: (m: Module) => Map<string, Tensor | null>): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [prefix, module] of this.namedModules()) {
      for (const [name, t] of pick(module)) {
        if (t === null || seen.has(t)) continue;
        seen.add(t);
        out.push([prefix ? `${prefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  /** The number of parameter elements (only trainable ones with `trainable`). */
  numParameters(options: { trainable?: boolean } = {}): number {
    return this.parameters().filter((p) => !options.trainable || p.requiresGrad).reduce((n, p) => n + p.numel, 0);
  }

  // ---- modes ----------------------------------------------------------------------

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Freezes (false) or unfreezes (true) every parameter of this subtree. */
  requiresGrad_(requires = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requires);
    return this;
  }
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * Moves or casts every parameter and buffer in place (the Tensor objects
   * stay the same, so optimizers built before keep working). Integer
   * buffers (counters) keep their dtype on a dtype cast, as in PyTorch; a
   * tensor already of that dtype on that device is left alone, so placing a
   * CPU model on the CPU does nothing.
   */
  to(target: DType | Device | { dtype?: DType; device?: Device }): this {
    const spec = typeof target === 'object' ? target : isDType(target) ? { dtype: target } : { device: target };
    noGrad(() => tidy(() => {
      for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) {
        const dtype = isFloatingPoint(t.dtype) && spec.dtype !== t.dtype ? spec.dtype : undefined;
        const device = spec.device !== t.device ? spec.device : undefined;
        if (dtype === undefined && device === undefined) continue;
        t.setData_(t.to({ dtype, device }));
      }
    }));
    return this;
  }

  /**
   * Where this module's tensors live: the device of its first parameter (or
   * buffer), 'cpu' for a module with neither. Inputs and the tensors a
   * forward pass creates belong there.
   */
  get device(): string {
    return (this.parameters()[0] ?? this.namedBuffers()[0]?.[1])?.device ?? 'cpu';
  }

  /** Every device that a parameter or buffer of this subtree is on (one, for a placed model). */
  devices(): Set<string> {
    return new Set([...this.namedParameters(), ...this.namedBuffers()].map(([, t]) => t.device));
  }

  // ---- state dicts -----------------------------------------------------------------

  /**
   * Parameters and persistent buffers by dotted name, in PyTorch's order
   * (each module's parameters, then its buffers, then its children): the
   * module's own tensors, not copies.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [prefix, module] of this.namedModules()) {
      const persistent = [...module.#buffers].filter(([name]) => !module.#transientBuffers.has(name));
      for (const [name, t] of [...module.#params, ...persistent]) {
        if (t !== null) out[prefix ? `${prefix}.${name}` : name] = t;
      }
    }
    return out;
  }

  /**
   * Copies values in by name. Strict (default) throws a StateDictError that
   * lists missing, unexpected and mis-shaped keys; non-strict loads what
   * matches and returns the same report.
   */
  loadStateDict(stateDict: StateDict, options: { strict?: boolean } = {}): LoadReport {
    const own = this.stateDict();
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
    for (const key of Object.keys(own)) if (!(key in stateDict)) report.missing.push(key);
    for (const key of Object.keys(stateDict)) if (!(key in own)) report.unexpected.push(key);
    for (const [key, target] of Object.entries(own)) {
      const source = stateDict[key];
      if (source && source.shape.join() !== target.shape.join()) {
        report.mismatched.push({ key, expected: target.shape, got: source.shape });
      }
    }
    const failed = report.missing.length + report.unexpected.length + report.mismatched.length > 0;
    if (failed && (options.strict ?? true)) throw new StateDictError(report, this.constructor.name);
    const bad = new Set(report.mismatched.map((m) => m.key));
    noGrad(() => {
      for (const [key, target] of Object.entries(own)) {
        const source = stateDict[key];
        if (source && !bad.has(key)) target.copy_(source);
      }
    });
    return report;
  }

  /** Frees every parameter and buffer of the subtree. */
  dispose(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.dispose();
  }
}

/** A module whose forward maps one tensor to one tensor (what Sequential chains). */
export interface Layer {
  forward(x: Tensor): Tensor;
}
