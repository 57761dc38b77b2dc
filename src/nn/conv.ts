// 2-d convolutions, as torch.nn.Conv2d and ConvTranspose2d.
import { F, type Tensor } from '../torch/index.js';
import { WeightedLayer, type WeightedOptions } from './weighted.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

export interface ConvOptions extends WeightedOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

abstract class ConvBase extends WeightedLayer {
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly groups: number;

  constructor(weightShape: number[], biasSize: number, options: ConvOptions) {
    super(weightShape, biasSize, options);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.groups = options.groups ?? 1;
  }
}

export class Conv2d extends ConvBase {
  /** weight `[out, in/groups, k, k]` */
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, options: ConvOptions = {}) {
    super([outChannels, inChannels / (options.groups ?? 1), ...pair(kernelSize)], outChannels, options);
  }

  /** `[B, in, H, W] → [B, out, H', W']` */
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.currentWeight(), this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }
}

export class ConvTranspose2d extends ConvBase {
  readonly outputPadding: Pair;

  /** weight `[in, out/groups, k, k]` (PyTorch's layout; fan-in is computed from dim 1, as PyTorch does). */
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, options: ConvOptions & { outputPadding?: Pair } = {}) {
    if (options.spectralNorm) throw new Error('spectral norm is supported on Linear and Conv2d, not ConvTranspose2d');
    super([inChannels, outChannels / (options.groups ?? 1), ...pair(kernelSize)], outChannels, options);
    this.outputPadding = options.outputPadding ?? 0;
  }

  /** `[B, in, H, W] → [B, out, H', W']` */
  forward(x: Tensor): Tensor {
    return F.convTranspose2d(x, this.currentWeight(), this.bias, {
      stride: this.stride, padding: this.padding, outputPadding: this.outputPadding, dilation: this.dilation, groups: this.groups,
    });
  }
}
