// VGG16's convolutional trunk (Simonyan & Zisserman 2015, configuration D)
// laid out as torchvision's `vgg16().features`, so torchvision's own weight
// file (`vgg16-397923af.pth`) loads by name: convolutions sit at the
// Sequential indices torchvision gives them (`features.0`, `features.2`,
// `features.5`, … `features.28`), the ReLUs and max-pools between them hold
// no weights and so leave gaps in the numbering. LPIPS reads the last ReLU
// of each of the five blocks; this module returns exactly those taps.
import { Conv2d, Module, type StateDict } from '../nn/index.js';
import { F, type Tensor } from '../torch/index.js';

/** The activations LPIPS compares, one per block, in order. */
export const vgg16Taps = ['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3', 'relu5_3'] as const;

/** torchvision's channel widths per block. */
export const vgg16Widths: readonly number[] = [64, 128, 256, 512, 512];

/** 3×3 convolutions per block in configuration D. */
const convsPerBlock = [2, 2, 3, 3, 3];

/**
 * torchvision's Sequential index of every convolution, grouped by block:
 * [[0, 2], [5, 7], [10, 12, 14], [17, 19, 21], [24, 26, 28]]. Each conv is
 * followed by a ReLU (one index), each block by a max-pool (one more).
 */
export const vgg16ConvIndices: readonly (readonly number[])[] = (() => {
  const blocks: number[][] = [];
  let index = 0;
  for (const n of convsPerBlock) {
    const block: number[] = [];
    for (let i = 0; i < n; i++, index += 2) block.push(index);
    blocks.push(block);
    index += 1;
  }
  return blocks;
})();

/** The `features` Sequential: only its convolutions are modules, named by their torchvision index. */
class ConvTrunk extends Module {
  readonly blocks: Conv2d[][];

  constructor(widths: readonly number[]) {
    super();
    let inChannels = 3;
    this.blocks = vgg16ConvIndices.map((indices, b) => indices.map((index) => {
      const conv = this.child(String(index), new Conv2d(inChannels, widths[b]!, 3, { padding: 1 }));
      inChannels = widths[b]!;
      return conv;
    }));
  }
}

export class Vgg16Features extends Module {
  readonly features: ConvTrunk;

  /**
   * `widths`: output channels of the five blocks (torchvision's by default).
   * Other widths keep the layout and names, e.g. for small test networks.
   */
  constructor(readonly widths: readonly number[] = vgg16Widths) {
    super();
    if (widths.length !== 5 || !widths.every((w) => Number.isInteger(w) && w >= 1)) {
      throw new RangeError(`VGG16 needs five positive block widths, got [${widths}]`);
    }
    this.features = this.child('features', new ConvTrunk(widths));
  }

  /**
   * x `[B, 3, H, W]`, already normalised the way the weights expect → the five
   * taps of `vgg16Taps`, tap b of shape `[B, widths[b], H/2^b, W/2^b]` (floored).
   * Four 2×2 pools run between the taps, so H and W must be at least 16.
   */
  forward(x: Tensor): Tensor[] {
    if (x.ndim !== 4 || x.size(1) !== 3) throw new RangeError(`VGG16 takes images [B, 3, H, W], got [${x.shape}]`);
    if (x.size(2) < 16 || x.size(3) < 16) {
      throw new RangeError(`VGG16 needs images of at least 16×16 (four 2×2 pools before relu5_3), got ${x.size(2)}×${x.size(3)}`);
    }
    const taps: Tensor[] = [];
    let h = x;
    this.features.blocks.forEach((block, b) => {
      if (b > 0) h = F.maxPool2d(h, 2, { stride: 2 });
      for (const conv of block) h = conv.forward(h).relu();
      taps.push(h);
    });
    return taps;
  }
}

/**
 * The block widths a VGG16 state dict was trained with (the output channels of
 * each block's first convolution), read from `features.{0,5,10,17,24}.weight`.
 * Throws naming the first missing key.
 */
export function vgg16WidthsOf(stateDict: StateDict, source = 'the state dict'): number[] {
  return vgg16ConvIndices.map(([first]) => {
    const key = `features.${first}.weight`;
    const weight = stateDict[key];
    if (!weight) throw new Error(`${source} has no ${key}: not a VGG16 'features' state dict`);
    if (weight.ndim !== 4) throw new Error(`${source}: ${key} has shape [${weight.shape}], expected [out, in, 3, 3]`);
    return weight.size(0);
  });
}
