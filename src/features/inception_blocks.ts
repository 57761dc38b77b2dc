// The building blocks of InceptionV3 (Szegedy et al., "Rethinking the
// Inception Architecture for Computer Vision", CVPR 2016) with torchvision's
// module names (`branch1x1`, `branch5x5_1`, `branch3x3dbl_2`, ...), so a
// torchvision- or pytorch-fid-layout state dict loads by name.
//
// The FID network is a port of TensorFlow's 2015 graph, whose pooling
// differs from torchvision's in two ways, selected here per block by
// `PoolBranch`: TF's average pool divides by the number of real (not padded)
// pixels under the window, and the graph's last block (Mixed_7c) max-pools
// in its pool branch where the paper average-pools (pytorch-fid calls the
// latter "likely an error" in that graph; the weights were trained with it,
// so FID has to keep it).
import { BatchNorm2d, Conv2d, type Layer, Module } from '../nn/index.js';
import { F, type Tensor, cat } from '../torch/index.js';

type Pair = number | [number, number];

/**
 * How a block's pool branch pools its input (3×3 window, stride 1, padding 1):
 * - `avg`: torchvision's average, padded zeros counted (count_include_pad=True);
 * - `avg-exclude-pad`: TensorFlow's average over the real pixels only (the FID graph);
 * - `max`: max pooling (the FID graph's Mixed_7c).
 */
export type PoolBranch = 'avg' | 'avg-exclude-pad' | 'max';

function poolBranch(x: Tensor, kind: PoolBranch): Tensor {
  if (kind === 'max') return F.maxPool2d(x, 3, { stride: 1, padding: 1 });
  return F.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: kind === 'avg' });
}

/**
 * conv (no bias) → BatchNorm → ReLU: every convolution of InceptionV3. The
 * BatchNorm ε is 0.001, TensorFlow's, which the ported weights were trained with.
 */
export class BasicConv2d extends Module implements Layer {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: { stride?: Pair; padding?: Pair } = {}) {
    super();
    this.conv = this.child('conv', new Conv2d(inChannels, outChannels, kernelSize, { ...options, bias: false }));
    this.bn = this.child('bn', new BatchNorm2d(outChannels, { eps: 1e-3 }));
  }

  /** `[B, in, H, W] → [B, out, H', W']` */
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(x)).relu();
  }
}

/** Factorised 1×n and n×1 kernels keep the spatial size with padding n/2 on the long side. */
const row = (cin: number, cout: number, n: number): BasicConv2d => new BasicConv2d(cin, cout, [1, n], { padding: [0, (n - 1) / 2] });
const column = (cin: number, cout: number, n: number): BasicConv2d => new BasicConv2d(cin, cout, [n, 1], { padding: [(n - 1) / 2, 0] });

/** 35×35 block (Mixed_5b/c/d): 1×1, 5×5, double 3×3 and pool branches. `[B, in, H, W] → [B, 224 + poolFeatures, H, W]` */
export class InceptionA extends Module implements Layer {
  readonly branch1x1: BasicConv2d;
  readonly branch5x5_1: BasicConv2d;
  readonly branch5x5_2: BasicConv2d;
  readonly branch3x3dbl_1: BasicConv2d;
  readonly branch3x3dbl_2: BasicConv2d;
  readonly branch3x3dbl_3: BasicConv2d;
  readonly branch_pool: BasicConv2d;

  constructor(inChannels: number, poolFeatures: number, readonly pool: PoolBranch = 'avg') {
    super();
    this.branch1x1 = this.child('branch1x1', new BasicConv2d(inChannels, 64, 1));
    this.branch5x5_1 = this.child('branch5x5_1', new BasicConv2d(inChannels, 48, 1));
    this.branch5x5_2 = this.child('branch5x5_2', new BasicConv2d(48, 64, 5, { padding: 2 }));
    this.branch3x3dbl_1 = this.child('branch3x3dbl_1', new BasicConv2d(inChannels, 64, 1));
    this.branch3x3dbl_2 = this.child('branch3x3dbl_2', new BasicConv2d(64, 96, 3, { padding: 1 }));
    this.branch3x3dbl_3 = this.child('branch3x3dbl_3', new BasicConv2d(96, 96, 3, { padding: 1 }));
    this.branch_pool = this.child('branch_pool', new BasicConv2d(inChannels, poolFeatures, 1));
  }

  forward(x: Tensor): Tensor {
    return cat([
      this.branch1x1.forward(x),
      this.branch5x5_2.forward(this.branch5x5_1.forward(x)),
      this.branch3x3dbl_3.forward(this.branch3x3dbl_2.forward(this.branch3x3dbl_1.forward(x))),
      this.branch_pool.forward(poolBranch(x, this.pool)),
    ], 1);
  }
}

/** Grid reduction 35 → 17 (Mixed_6a): strided 3×3, strided double 3×3 and a 3×3/2 max pool. `[B, in, H, W] → [B, 480 + in, ⌊(H−3)/2⌋+1, ⌊(W−3)/2⌋+1]` */
export class InceptionB extends Module implements Layer {
  readonly branch3x3: BasicConv2d;
  readonly branch3x3dbl_1: BasicConv2d;
  readonly branch3x3dbl_2: BasicConv2d;
  readonly branch3x3dbl_3: BasicConv2d;

  constructor(inChannels: number) {
    super();
    this.branch3x3 = this.child('branch3x3', new BasicConv2d(inChannels, 384, 3, { stride: 2 }));
    this.branch3x3dbl_1 = this.child('branch3x3dbl_1', new BasicConv2d(inChannels, 64, 1));
    this.branch3x3dbl_2 = this.child('branch3x3dbl_2', new BasicConv2d(64, 96, 3, { padding: 1 }));
    this.branch3x3dbl_3 = this.child('branch3x3dbl_3', new BasicConv2d(96, 96, 3, { stride: 2 }));
  }

  forward(x: Tensor): Tensor {
    return cat([
      this.branch3x3.forward(x),
      this.branch3x3dbl_3.forward(this.branch3x3dbl_2.forward(this.branch3x3dbl_1.forward(x))),
      F.maxPool2d(x, 3, { stride: 2 }),
    ], 1);
  }
}

/**
 * 17×17 block (Mixed_6b..e): 7×7 convolutions factorised into 1×7 and 7×1,
 * `channels7x7` wide inside the branches. `[B, in, H, W] → [B, 768, H, W]`
 */
export class InceptionC extends Module implements Layer {
  readonly branch1x1: BasicConv2d;
  readonly branch7x7_1: BasicConv2d;
  readonly branch7x7_2: BasicConv2d;
  readonly branch7x7_3: BasicConv2d;
  readonly branch7x7dbl_1: BasicConv2d;
  readonly branch7x7dbl_2: BasicConv2d;
  readonly branch7x7dbl_3: BasicConv2d;
  readonly branch7x7dbl_4: BasicConv2d;
  readonly branch7x7dbl_5: BasicConv2d;
  readonly branch_pool: BasicConv2d;

  constructor(inChannels: number, channels7x7: number, readonly pool: PoolBranch = 'avg') {
    super();
    const c7 = channels7x7;
    this.branch1x1 = this.child('branch1x1', new BasicConv2d(inChannels, 192, 1));
    this.branch7x7_1 = this.child('branch7x7_1', new BasicConv2d(inChannels, c7, 1));
    this.branch7x7_2 = this.child('branch7x7_2', row(c7, c7, 7));
    this.branch7x7_3 = this.child('branch7x7_3', column(c7, 192, 7));
    this.branch7x7dbl_1 = this.child('branch7x7dbl_1', new BasicConv2d(inChannels, c7, 1));
    this.branch7x7dbl_2 = this.child('branch7x7dbl_2', column(c7, c7, 7));
    this.branch7x7dbl_3 = this.child('branch7x7dbl_3', row(c7, c7, 7));
    this.branch7x7dbl_4 = this.child('branch7x7dbl_4', column(c7, c7, 7));
    this.branch7x7dbl_5 = this.child('branch7x7dbl_5', row(c7, 192, 7));
    this.branch_pool = this.child('branch_pool', new BasicConv2d(inChannels, 192, 1));
  }

  forward(x: Tensor): Tensor {
    const seven = this.branch7x7_3.forward(this.branch7x7_2.forward(this.branch7x7_1.forward(x)));
    let double = this.branch7x7dbl_1.forward(x);
    for (const layer of [this.branch7x7dbl_2, this.branch7x7dbl_3, this.branch7x7dbl_4, this.branch7x7dbl_5]) double = layer.forward(double);
    return cat([this.branch1x1.forward(x), seven, double, this.branch_pool.forward(poolBranch(x, this.pool))], 1);
  }
}

/** Grid reduction 17 → 8 (Mixed_7a). `[B, in, H, W] → [B, 512 + in, ⌊(H−3)/2⌋+1, ⌊(W−3)/2⌋+1]` */
export class InceptionD extends Module implements Layer {
  readonly branch3x3_1: BasicConv2d;
  readonly branch3x3_2: BasicConv2d;
  readonly branch7x7x3_1: BasicConv2d;
  readonly branch7x7x3_2: BasicConv2d;
  readonly branch7x7x3_3: BasicConv2d;
  readonly branch7x7x3_4: BasicConv2d;

  constructor(inChannels: number) {
    super();
    this.branch3x3_1 = this.child('branch3x3_1', new BasicConv2d(inChannels, 192, 1));
    this.branch3x3_2 = this.child('branch3x3_2', new BasicConv2d(192, 320, 3, { stride: 2 }));
    this.branch7x7x3_1 = this.child('branch7x7x3_1', new BasicConv2d(inChannels, 192, 1));
    this.branch7x7x3_2 = this.child('branch7x7x3_2', row(192, 192, 7));
    this.branch7x7x3_3 = this.child('branch7x7x3_3', column(192, 192, 7));
    this.branch7x7x3_4 = this.child('branch7x7x3_4', new BasicConv2d(192, 192, 3, { stride: 2 }));
  }

  forward(x: Tensor): Tensor {
    let seven = this.branch7x7x3_1.forward(x);
    for (const layer of [this.branch7x7x3_2, this.branch7x7x3_3, this.branch7x7x3_4]) seven = layer.forward(seven);
    return cat([this.branch3x3_2.forward(this.branch3x3_1.forward(x)), seven, F.maxPool2d(x, 3, { stride: 2 })], 1);
  }
}

/**
 * 8×8 block (Mixed_7b/c): the 3×3 branches end in parallel 1×3 and 3×1
 * convolutions whose outputs are concatenated (wider, not deeper, at the
 * coarsest grid). `[B, in, H, W] → [B, 2048, H, W]`
 */
export class InceptionE extends Module implements Layer {
  readonly branch1x1: BasicConv2d;
  readonly branch3x3_1: BasicConv2d;
  readonly branch3x3_2a: BasicConv2d;
  readonly branch3x3_2b: BasicConv2d;
  readonly branch3x3dbl_1: BasicConv2d;
  readonly branch3x3dbl_2: BasicConv2d;
  readonly branch3x3dbl_3a: BasicConv2d;
  readonly branch3x3dbl_3b: BasicConv2d;
  readonly branch_pool: BasicConv2d;

  constructor(inChannels: number, readonly pool: PoolBranch = 'avg') {
    super();
    this.branch1x1 = this.child('branch1x1', new BasicConv2d(inChannels, 320, 1));
    this.branch3x3_1 = this.child('branch3x3_1', new BasicConv2d(inChannels, 384, 1));
    this.branch3x3_2a = this.child('branch3x3_2a', row(384, 384, 3));
    this.branch3x3_2b = this.child('branch3x3_2b', column(384, 384, 3));
    this.branch3x3dbl_1 = this.child('branch3x3dbl_1', new BasicConv2d(inChannels, 448, 1));
    this.branch3x3dbl_2 = this.child('branch3x3dbl_2', new BasicConv2d(448, 384, 3, { padding: 1 }));
    this.branch3x3dbl_3a = this.child('branch3x3dbl_3a', row(384, 384, 3));
    this.branch3x3dbl_3b = this.child('branch3x3dbl_3b', column(384, 384, 3));
    this.branch_pool = this.child('branch_pool', new BasicConv2d(inChannels, 192, 1));
  }

  forward(x: Tensor): Tensor {
    const three = this.branch3x3_1.forward(x);
    const double = this.branch3x3dbl_2.forward(this.branch3x3dbl_1.forward(x));
    return cat([
      this.branch1x1.forward(x),
      this.branch3x3_2a.forward(three), this.branch3x3_2b.forward(three),
      this.branch3x3dbl_3a.forward(double), this.branch3x3dbl_3b.forward(double),
      this.branch_pool.forward(poolBranch(x, this.pool)),
    ], 1);
  }
}
