// The transformer's feed-forward block: fc1 → GELU → fc2 (timm's names).
import { F, type Tensor } from '../torch/index.js';
import { Linear } from './linear.js';
import { type Layer, Module } from './module.js';

export class Mlp extends Module implements Layer {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(dim: number, hidden: number, readonly options: { dropout?: number; approximateGelu?: boolean } = {}) {
    super();
    this.fc1 = this.child('fc1', new Linear(dim, hidden));
    this.fc2 = this.child('fc2', new Linear(hidden, dim));
  }

  /** `[..., dim] → [..., dim]` */
  forward(x: Tensor): Tensor {
    const p = this.training ? this.options.dropout ?? 0 : 0;
    const h = F.gelu(this.fc1.forward(x), this.options.approximateGelu ? 'tanh' : 'none');
    return F.dropout(this.fc2.forward(p > 0 ? F.dropout(h, p) : h), p, p > 0);
  }
}
