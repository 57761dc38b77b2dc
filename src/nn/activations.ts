// Activation functions as layers, for Sequential stacks. They hold no
// parameters, so a stack's state-dict indices match PyTorch's twin
// (`main.1` is a LeakyReLU in both).
import { F, type Tensor } from '../torch/index.js';
import { type Layer, Module } from './module.js';

export class ReLU extends Module implements Layer {
  forward(x: Tensor): Tensor { return F.relu(x); }
}

export class LeakyReLU extends Module implements Layer {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor { return F.leakyRelu(x, this.negativeSlope); }
}

export class SiLU extends Module implements Layer {
  forward(x: Tensor): Tensor { return F.silu(x); }
}

export class GELU extends Module implements Layer {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: Tensor): Tensor { return F.gelu(x, this.approximate); }
}

export class Tanh extends Module implements Layer {
  forward(x: Tensor): Tensor { return F.tanh(x); }
}
