// The convolutional encoder/decoder of VQGAN (Esser et al., "Taming
// Transformers for High-Resolution Image Synthesis", CVPR 2021): residual
// blocks with GroupNorm + SiLU, a stride-2 convolution per level to
// downsample, optional single-head self-attention at the lowest resolution,
// and a mirrored decoder with nearest-neighbour upsampling. RobusTok is
// architecture-agnostic (docs/method.md §1), and this is the project's small-scale,
// CPU-friendly tokenizer backbone. Parameter names follow taming-transformers
// (`conv_in`, `down.0.block.1.norm1`, `mid.attn_1`, `norm_out`, `conv_out`)
// so a state dict reads like theirs. With `attention: true` and
// `attentionLevels` it is taming's Encoder/Decoder exactly (the released
// VQGAN f16 models: attention in the middle and at the 16×16 level). The
// blocks live in vqgan_blocks.ts, shared with LlamaGen's layout (llamagen.ts).
//
// Every composite forward runs in its own `tidy` scope (and normActConv frees
// its two intermediates at once), so activations that autograd does not save
// are freed as soon as they are used, as Python's reference counting frees
// them, rather than piling up until the training step's scope ends. The
// pile-up (hundreds of MB per step of the small preset at batch 64) left the
// allocator handing out cold memory and, while the addon still reported
// scoped tensors to V8, cost 3–4 full garbage collections per step:
// bench/tokenizer (2 threads) measured the train step, no-grad encode and
// decode at 1.31, 1.38 and 1.63 times PyTorch's time before, within 5% after.
import { Conv2d, GroupNorm, type Layer, Module, ModuleList } from '../nn/index.js';
import { type Tensor, tidy } from '../torch/index.js';
import { Downsample, Level, Mid, ResnetBlock, Upsample, conv3, norm, normActConv } from './vqgan_blocks.js';

export interface CnnOptions {
  /** Image channels (3 for RGB, 1 for greyscale): encoder input, decoder output. */
  imageChannels: number;
  /** Channels of the latent map: encoder output, decoder input. */
  zChannels: number;
  /** Width of the first level (128 in VQGAN). */
  baseChannels: number;
  /**
   * Width of each level as a multiple of `baseChannels`, e.g. [1, 2, 2].
   * L levels downsample by f = 2^(L−1).
   */
  channelMultipliers: number[];
  /** Residual blocks per level in the encoder (the decoder has one more, as in taming). */
  resBlocks: number;
  /** Self-attention in the middle, at the lowest resolution (taming: always on). */
  attention?: boolean;
  /**
   * Levels (0 = full resolution) whose residual blocks are each followed by
   * self-attention (`down.i.attn.j`, `up.i.attn.j`): taming's
   * attn_resolutions counted in levels ([4] for the f16 models at 256²);
   * LlamaGen's lowest level. Default none.
   */
  attentionLevels?: number[];
  /**
   * GroupNorm groups (32 in VQGAN). A layer of C channels uses
   * min(normGroups, C) groups, so narrow test-size models still work; every
   * width must split evenly into that many groups.
   */
  normGroups?: number;
}

function positiveInt(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`CNN tokenizer: ${name} must be a positive integer, got ${v}`);
}

/** Validates the options; returns the width of each level. */
export function levelWidths(o: CnnOptions): number[] {
  positiveInt('imageChannels', o.imageChannels);
  positiveInt('zChannels', o.zChannels);
  positiveInt('baseChannels', o.baseChannels);
  positiveInt('resBlocks', o.resBlocks);
  positiveInt('normGroups', o.normGroups ?? 32);
  if (!Array.isArray(o.channelMultipliers) || o.channelMultipliers.length === 0) {
    throw new RangeError('CNN tokenizer: channelMultipliers must list at least one level, e.g. [1, 2, 2]');
  }
  o.channelMultipliers.forEach((m, i) => positiveInt(`channelMultipliers[${i}]`, m));
  for (const level of o.attentionLevels ?? []) {
    if (!(Number.isInteger(level) && level >= 0 && level < o.channelMultipliers.length)) {
      throw new RangeError(`CNN tokenizer: attentionLevels holds ${level}, not a level in [0, ${o.channelMultipliers.length}) (one per channelMultipliers entry)`);
    }
  }
  const widths = o.channelMultipliers.map((m) => m * o.baseChannels);
  const groups = o.normGroups ?? 32;
  for (const c of widths) {
    if (c % Math.min(groups, c) !== 0) {
      throw new RangeError(`CNN tokenizer: normGroups ${groups} does not divide ${c} channels ` +
        `(baseChannels ${o.baseChannels} × channelMultipliers); use a normGroups that divides every level's width`);
    }
  }
  return widths;
}

/** The downsampling factor f = 2^(levels − 1): an H×W image gives an (H/f)×(W/f) latent. */
export const cnnDownsampleFactor = (o: Pick<CnnOptions, 'channelMultipliers'>): number => 2 ** (o.channelMultipliers.length - 1);

/** The attention of level `i` of width `channels`, or null where the options put none. */
export const levelAttention = (o: CnnOptions, i: number, channels: number): { channels: number; groups: number } | null =>
  (o.attentionLevels ?? []).includes(i) ? { channels, groups: o.normGroups ?? 32 } : null;

/**
 * VQGAN encoder: `conv_in` → levels (`down.i.block.j`, `down.i.downsample`
 * on all but the last) → `mid` → `norm_out` + SiLU → `conv_out` to zChannels.
 */
export class CnnEncoder extends Module implements Layer {
  readonly convIn: Conv2d;
  readonly down: ModuleList<Level>;
  readonly mid: Mid;
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(readonly options: CnnOptions) {
    super();
    const widths = levelWidths(options);
    const groups = options.normGroups ?? 32;
    this.convIn = this.child('conv_in', conv3(options.imageChannels, options.baseChannels));
    this.down = this.child('down', new ModuleList<Level>());
    let cin = options.baseChannels;
    widths.forEach((cout, i) => {
      const blocks = Array.from({ length: options.resBlocks }, (_, j) => new ResnetBlock(j === 0 ? cin : cout, cout, groups));
      const last = i === widths.length - 1;
      this.down.push(new Level('block', blocks, levelAttention(options, i, cout), last ? null : ['downsample', new Downsample(cout)]));
      cin = cout;
    });
    this.mid = this.child('mid', new Mid(cin, groups, options.attention ?? false));
    this.normOut = this.child('norm_out', norm(cin, groups));
    this.convOut = this.child('conv_out', conv3(cin, options.zChannels));
  }

  /** `[B, C, H, W] → [B, z, H/f, W/f]` with f = 2^(levels − 1); H and W must be multiples of f. */
  forward(x: Tensor): Tensor {
    const f = cnnDownsampleFactor(this.options);
    const [, C, H, W] = x.shape as [number, number, number, number];
    if (x.ndim !== 4 || C !== this.options.imageChannels) {
      throw new Error(`CNN encoder expects [B, ${this.options.imageChannels}, H, W] (imageChannels), got [${x.shape}]`);
    }
    if (H % f !== 0 || W % f !== 0) {
      throw new Error(`CNN encoder: image size ${H}×${W} is not divisible by the downsampling factor ${f} (from channelMultipliers)`);
    }
    return tidy(() => {
      let h = this.convIn.forward(x);
      for (const level of this.down) h = level.forward(h);
      h = this.mid.forward(h);
      return normActConv(this.normOut, this.convOut, h);
    });
  }
}

/**
 * VQGAN decoder, the encoder mirrored: `conv_in` from zChannels → `mid` →
 * levels from the lowest resolution up (`up.i` is level i, as in taming, so
 * it runs i = L−1 … 0; resBlocks + 1 blocks each, `up.i.upsample` on all
 * but level 0) → `norm_out` + SiLU → `conv_out` to image channels.
 */
export class CnnDecoder extends Module implements Layer {
  readonly convIn: Conv2d;
  readonly mid: Mid;
  readonly up: ModuleList<Level>;
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(readonly options: CnnOptions) {
    super();
    const widths = levelWidths(options);
    const groups = options.normGroups ?? 32;
    let cin = widths.at(-1)!;
    this.convIn = this.child('conv_in', conv3(options.zChannels, cin));
    this.mid = this.child('mid', new Mid(cin, groups, options.attention ?? false));
    const levels: Level[] = [];
    for (let i = widths.length - 1; i >= 0; i--) {
      const cout = widths[i]!;
      const blocks = Array.from({ length: options.resBlocks + 1 }, (_, j) => new ResnetBlock(j === 0 ? cin : cout, cout, groups));
      levels[i] = new Level('block', blocks, levelAttention(options, i, cout), i === 0 ? null : ['upsample', new Upsample(cout)]);
      cin = cout;
    }
    this.up = this.child('up', new ModuleList(levels));
    this.normOut = this.child('norm_out', norm(cin, groups));
    this.convOut = this.child('conv_out', conv3(cin, options.imageChannels));
  }

  /** `[B, z, h, w] → [B, C, h·f, w·f]` */
  forward(z: Tensor): Tensor {
    if (z.ndim !== 4 || z.size(1) !== this.options.zChannels) {
      throw new Error(`CNN decoder expects [B, ${this.options.zChannels}, h, w] (zChannels), got [${z.shape}]`);
    }
    return tidy(() => {
      let h = this.mid.forward(this.convIn.forward(z));
      for (let i = this.up.length - 1; i >= 0; i--) h = this.up.at(i).forward(h);
      return normActConv(this.normOut, this.convOut, h);
    });
  }
}
