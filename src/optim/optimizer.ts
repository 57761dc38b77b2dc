// What every optimizer shares, after torch.optim.Optimizer: parameter groups
// whose hyper-parameters override the optimizer's options, per-parameter state
// created at a parameter's first update, zeroGrad, and the state dict in
// PyTorch's layout (state tensors `state.<i>.<name>`, parameters numbered
// across groups in order; hyper-parameters per group), so a checkpoint's
// optimizer section reads the same as torch.optim's.
import { Tensor, noGrad, tidy, zerosLike } from '../torch/index.js';
import { type Stateful, type TrainState, checkEnvelope, checkTensors, stateError } from './state.js';

/** Hyper-parameters every optimizer has; `lr` is what a Scheduler sets. */
export interface BaseHyper {
  lr: number;
}
/** A group as given: its tensors, and hyper-parameters that override the optimizer's options. */
export type GroupSpec<H> = { params: Tensor[] } & Partial<H>;
/** A group as the optimizer holds it, every hyper-parameter set; change `lr` (or use a Scheduler) between steps. */
export type ParamGroup<H> = { params: Tensor[] } & H;
/** One list of tensors (a single group) or a list of groups, as torch.optim accepts. */
export type ParamsOrGroups<H> = Tensor[] | GroupSpec<H>[];

/** A problem with a hyper-parameter that must be a number ≥ 0, or undefined. */
export const nonNegative = (name: string, value: unknown): string | undefined =>
  (typeof value === 'number' && value >= 0 ? undefined : `${name} must be a number ≥ 0, got ${String(value)}`);
/** A problem with a hyper-parameter that must lie in [0, 1), or undefined. */
export const fraction = (name: string, value: unknown): string | undefined =>
  (typeof value === 'number' && value >= 0 && value < 1 ? undefined : `${name} must be in [0, 1), got ${String(value)}`);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
const defined = (o: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export abstract class Optimizer<H extends BaseHyper> implements Stateful {
  readonly paramGroups: ParamGroup<H>[];
  /** Every parameter, numbered across groups as in the state dict. */
  readonly params: Tensor[] = [];
  readonly #groupOf: number[] = [];
  /** Per parameter: its state tensors (kept), empty until its first update. */
  readonly #state: Record<string, Tensor>[] = [];
  /** Per parameter: the updates it has had (torch's per-parameter `step`; skipped when it has no grad). */
  readonly #steps: number[] = [];

  protected constructor(readonly kind: string, paramsOrGroups: ParamsOrGroups<H>, options: Partial<H>, fallback: H) {
    const known = Object.keys(fallback);
    const unknownKeys = (o: object, allowed: string[]): string[] => Object.keys(o).filter((k) => !allowed.includes(k));
    const badOptions = unknownKeys(options, known);
    if (badOptions.length > 0) throw new TypeError(`${kind}: unknown option '${badOptions[0]}' (known: ${known.join(', ')})`);
    const defaults = { ...fallback, ...defined(options) };
    this.paramGroups = this.#groupSpecs(paramsOrGroups).map((spec, g) => {
      const where = `${kind}: parameter group ${g}`;
      const badKeys = unknownKeys(spec, ['params', ...known]);
      if (badKeys.length > 0) throw new TypeError(`${where} has unknown key '${badKeys[0]}' (known: params, ${known.join(', ')})`);
      const group = { ...structuredClone(defaults), ...defined(spec), params: [...spec.params] } as ParamGroup<H>;
      const problems = this.checkHyper(group).filter((p) => p !== undefined);
      if (problems.length > 0) throw new RangeError(`${where}: ${problems.join('; ')}`);
      for (const param of group.params) this.#add(param, g, where);
      return group;
    });
    if (this.params.length === 0) throw new Error(`${kind}: got an empty parameter list`);
  }

  /** Problems with one group's hyper-parameters (undefined entries are fine). */
  protected abstract checkHyper(hyper: H): (string | undefined)[];
  /** The state tensors a parameter has after its first update under these hyper-parameters. */
  protected abstract stateNames(hyper: H): string[];
  /**
   * One parameter's update, run without autograd inside a scope; `state`
   * starts empty and the method adds its tensors (kept); `step` counts this update, from 1.
   */
  protected abstract update(param: Tensor, grad: Tensor, hyper: H, state: Record<string, Tensor>, step: number): void;

  /** One update from the gradients in `.grad` (parameters without one are skipped, as in PyTorch). */
  step(): void {
    noGrad(() => this.params.forEach((param, i) => tidy(() => {
      const grad = param.grad;
      if (grad === null) return;
      this.#steps[i]! += 1;
      this.update(param, grad, this.paramGroups[this.#groupOf[i]!]!, this.#state[i]!, this.#steps[i]!);
    })));
  }

  /** Drops the gradients (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  stateDict(): TrainState {
    const tensors: Record<string, Tensor> = {};
    this.#state.forEach((state, i) => {
      for (const [name, t] of Object.entries(state)) tensors[`state.${i}.${name}`] = t;
    });
    let next = 0;
    const groups = this.paramGroups.map(({ params, ...hyper }) => ({ ...structuredClone(hyper), params: params.map(() => next++) }));
    return { tensors, meta: { kind: this.kind, steps: [...this.#steps], groups } };
  }

  /** Restores state tensors, step counts and every group's hyper-parameters; parameters stay this optimizer's own. */
  loadStateDict(state: TrainState): void {
    const meta = checkEnvelope(this.kind, state);
    const fail = (problem: string): never => { throw stateError(this.kind, problem); };
    const saved = meta.groups;
    if (!Array.isArray(saved) || saved.length !== this.paramGroups.length) {
      fail(`the state has ${Array.isArray(saved) ? saved.length : 'no'} parameter groups, this optimizer ${this.paramGroups.length}`);
    }
    const known = Object.keys(this.paramGroups[0]!).filter((k) => k !== 'params').sort().join();
    const hypers = (saved as Record<string, unknown>[]).map(({ params, ...hyper }, g) => {
      const size = this.paramGroups[g]!.params.length;
      if (!Array.isArray(params) || params.length !== size) fail(`group ${g} has ${JSON.stringify(params)} as params, this optimizer's has ${size} parameters`);
      if (Object.keys(hyper).sort().join() !== known) fail(`group ${g} has keys ${Object.keys(hyper).join(', ')}, expected ${known}`);
      const problems = this.checkHyper(hyper as unknown as H).filter((p) => p !== undefined);
      if (problems.length > 0) fail(`group ${g}: ${problems.join('; ')}`);
      return hyper as unknown as H;
    });
    const steps = meta.steps;
    if (!Array.isArray(steps) || steps.length !== this.params.length || !steps.every((s) => Number.isInteger(s) && s >= 0)) {
      fail(`meta.steps must list ${this.params.length} non-negative integers, got ${JSON.stringify(steps)}`);
    }
    const expected = new Map<string, number[]>();
    this.params.forEach((param, i) => {
      if ((steps as number[])[i]! === 0) return;
      for (const name of this.stateNames(hypers[this.#groupOf[i]!]!)) expected.set(`state.${i}.${name}`, param.shape);
    });
    checkTensors(this.kind, state.tensors, expected);

    this.dispose();
    noGrad(() => this.params.forEach((param, i) => {
      this.#steps[i] = (steps as number[])[i]!;
      this.#state[i] = {};
      for (const name of this.stateNames(hypers[this.#groupOf[i]!]!)) {
        const source = state.tensors[`state.${i}.${name}`];
        if (source !== undefined) this.#state[i]![name] = tidy(() => zerosLike(param).keep().copy_(source));
      }
    }));
    this.paramGroups.forEach((group, g) => Object.assign(group, structuredClone(hypers[g])));
  }

  /** Frees the state tensors (the parameters stay the caller's). */
  dispose(): void {
    for (const state of this.#state) for (const t of Object.values(state)) t.dispose();
    this.#state.forEach((_, i) => { this.#state[i] = {}; });
  }

  #groupSpecs(paramsOrGroups: ParamsOrGroups<H>): GroupSpec<H>[] {
    if (!Array.isArray(paramsOrGroups)) {
      throw new TypeError(`${this.kind}: params must be an array of Tensors or of groups {params, ...}`);
    }
    const list: unknown[] = paramsOrGroups;
    if (list.length > 0 && list.every(isPlainObject)) {
      const bad = list.findIndex((g) => !Array.isArray((g as { params?: unknown }).params));
      if (bad >= 0) throw new TypeError(`${this.kind}: parameter group ${bad} has no params array`);
      return list as GroupSpec<H>[];
    }
    return [{ params: list as Tensor[] } as GroupSpec<H>];
  }

  #add(param: unknown, group: number, where: string): void {
    const paramAt = this.params.length;
    if (!(param instanceof Tensor)) throw new TypeError(`${where}: params must be Tensors, got ${String(param)} (parameter ${paramAt})`);
    if (!param.isLeaf) throw new TypeError(`${where}: can't optimize a non-leaf Tensor (parameter ${paramAt})`);
    if (this.params.includes(param)) throw new Error(`${where}: a parameter appears more than once (parameter ${paramAt})`);
    this.params.push(param);
    this.#groupOf.push(group);
    this.#state.push({});
    this.#steps.push(0);
  }
}
