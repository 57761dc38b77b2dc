// LayerScale (Touvron et al., "Going deeper with Image Transformers" (CaiT),
// 2021): a learned per-channel factor on each residual branch, started small
// so a deep stack begins near the identity. DINOv2's ViTs use it (timm's
// `ls1`/`ls2`, init 1e-5), so their checkpoints carry `gamma`.
import { type Tensor, full } from '../torch/index.js';
import { type Layer, Module } from './module.js';

export class LayerScale extends Module implements Layer {
  /** `[dim]` */
  readonly gamma: Tensor;

  constructor(dim: number, initValue: number) {
    super();
    this.gamma = this.param('gamma', full([dim], initValue));
  }

  /** `[..., dim] → [..., dim]` */
  forward(x: Tensor): Tensor {
    return x.mul(this.gamma);
  }
}
