// Fully connected layer, y = x·Wᵀ + b, as torch.nn.Linear.
import { F, type Tensor } from '../torch/index.js';
import { WeightedLayer, type WeightedOptions } from './weighted.js';

export class Linear extends WeightedLayer {
  /** weight `[out, in]`, bias `[out]` */
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: WeightedOptions = {}) {
    super([outFeatures, inFeatures], outFeatures, options);
  }

  /** `[..., in] → [..., out]` */
  forward(x: Tensor): Tensor {
    return F.linear(x, this.currentWeight(), this.bias);
  }
}
