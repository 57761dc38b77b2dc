// Normalisation layers, as torch.nn.GroupNorm, LayerNorm and BatchNorm2d.
import { F, type Tensor, ones, zeros } from '../torch/index.js';
import { Module } from './module.js';

/** Wu & He (2018): statistics over groups of channels; the VQGAN encoder/decoder's norm. */
export class GroupNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(readonly numGroups: number, readonly numChannels: number, readonly options: { eps?: number; affine?: boolean } = {}) {
    super();
    if (numChannels % numGroups !== 0) throw new Error(`GroupNorm: ${numChannels} channels do not split into ${numGroups} groups`);
    const affine = options.affine ?? true;
    this.weight = this.param('weight', affine ? ones([numChannels]) : null);
    this.bias = this.param('bias', affine ? zeros([numChannels]) : null);
  }

  /** `[B, C, ...] → same` */
  forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.numGroups, this.weight, this.bias, this.options.eps ?? 1e-5);
  }
}

export class LayerNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly shape: number[];

  constructor(normalizedShape: number | number[], readonly options: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {}) {
    super();
    this.shape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    const affine = options.elementwiseAffine ?? true;
    this.weight = this.param('weight', affine ? ones(this.shape) : null);
    this.bias = this.param('bias', affine && options.bias !== false ? zeros(this.shape) : null);
  }

  /** `[..., *shape] → same` */
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.shape, this.weight, this.bias, this.options.eps ?? 1e-5);
  }
}

/** Ioffe & Szegedy (2015), with running statistics used in eval mode. */
export class BatchNorm2d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;

  constructor(readonly numFeatures: number, readonly options: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super();
    const affine = options.affine ?? true;
    this.weight = this.param('weight', affine ? ones([numFeatures]) : null);
    this.bias = this.param('bias', affine ? zeros([numFeatures]) : null);
    this.runningMean = this.buffer('running_mean', zeros([numFeatures]))!;
    this.runningVar = this.buffer('running_var', ones([numFeatures]))!;
    this.numBatchesTracked = this.buffer('num_batches_tracked', zeros([], { dtype: 'int64' }))!;
  }

  /** `[B, C, H, W] → same`; in training, updates the running statistics in place. */
  forward(x: Tensor): Tensor {
    if (this.training) this.numBatchesTracked.add_(1);
    return F.batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight, bias: this.bias, training: this.training,
      momentum: this.options.momentum ?? 0.1, eps: this.options.eps ?? 1e-5,
    });
  }
}
