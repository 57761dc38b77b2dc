// Containers and trivial layers: Sequential, ModuleList, Identity, Dropout.
import { F, type Tensor } from '../torch/index.js';
import { type Layer, Module } from './module.js';

/** Children named 0, 1, 2, ... as in PyTorch (`blocks.0.attn...`). */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[] = [];

  constructor(modules: M[] = []) {
    super();
    for (const m of modules) this.push(m);
  }
  push(module: M): this {
    this.items.push(this.child(String(this.items.length), module));
    return this;
  }
  at(index: number): M {
    const m = this.items.at(index);
    if (!m) throw new RangeError(`ModuleList index ${index} out of range (length ${this.items.length})`);
    return m;
  }
  get length(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/** Applies its layers in order. */
export class Sequential extends ModuleList<Module & Layer> implements Layer {
  constructor(...layers: (Module & Layer)[]) {
    super(layers);
  }
  forward(x: Tensor): Tensor {
    return this.items.reduce((h, layer) => layer.forward(h), x);
  }
}

export class Identity extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Zeroes elements with probability p in training, scaling the rest by 1/(1−p). */
export class Dropout extends Module implements Layer {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`dropout probability must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return this.p === 0 || !this.training ? x : F.dropout(x, this.p, true);
  }
}
