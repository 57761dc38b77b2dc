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
// blocks live in vqgan_blocks.ts; LlamaGen's layout of the same network
// (llamagen.ts) is these two classes under another `CnnLayout`.
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

/**
 * What tells the layouts of this network apart: taming's (`TAMING_LAYOUT`,
 * robustok's own CNN) and LlamaGen's (llamagen.ts). The blocks, their widths
 * and the order they are built in are the same; the containers' names, where
 * attention goes and how the middle is held differ.
 */
export interface CnnLayout {
  /** Names the network in error messages ('CNN', 'LlamaGen'). */
  readonly title: string;
  /** The name of the encoder's and of the decoder's list of levels. */
  readonly levelLists: { readonly encoder: string; readonly decoder: string };
  /** The name of a level's residual blocks. */
  readonly blocks: 'block' | 'res';
  /** Whether the decoder lists its levels from the lowest resolution up (LlamaGen) rather than by level (taming: `up.i` is level i). */
  readonly decoderListsLowestFirst: boolean;
  /** Whether level i (0 = full resolution) follows each of its residual blocks with self-attention. */
  attends(o: CnnOptions, level: number): boolean;
  /** The blocks at the lowest resolution, `[B, C, h, w] → [B, C, h, w]`. */
  middle(channels: number, groups: number, o: CnnOptions): Module & Layer;
}

/** taming's names: `down.i.block.j`, `up.i` = level i, attention at `attentionLevels`, `mid.block_1`/`attn_1`/`block_2`. */
export const TAMING_LAYOUT: CnnLayout = {
  title: 'CNN',
  levelLists: { encoder: 'down', decoder: 'up' },
  blocks: 'block',
  decoderListsLowestFirst: false,
  attends: (o, level) => (o.attentionLevels ?? []).includes(level),
  middle: (channels, groups, o) => new Mid(channels, groups, o.attention ?? false),
};

/**
 * The resolution levels of a VQGAN encoder (`'down'`: resBlocks residual
 * blocks a level, `downsample` on all but the last) or decoder (`'up'`:
 * resBlocks + 1, `upsample` on all but level 0), in the layout's list order.
 * The decoder builds its levels from the lowest resolution up, the way its
 * input flows, and each level's resampling conv before the level's attention
 * blocks: that order is what a seed has always produced, so it must not change.
 */
function cnnLevels(o: CnnOptions, direction: 'down' | 'up', layout: CnnLayout): Level[] {
  const widths = levelWidths(o);
  const groups = o.normGroups ?? 32;
  const down = direction === 'down';
  const last = widths.length - 1;
  const levels: Level[] = [];
  let cin = down ? o.baseChannels : widths[last]!;
  for (let k = 0; k <= last; k++) {
    const i = down ? k : last - k;
    const cout = widths[i]!;
    const blocks = Array.from({ length: down ? o.resBlocks : o.resBlocks + 1 }, (_, j) => new ResnetBlock(j === 0 ? cin : cout, cout, groups));
    const resample: ['downsample' | 'upsample', Module & Layer] | null = down
      ? (i === last ? null : ['downsample', new Downsample(cout)])
      : (i === 0 ? null : ['upsample', new Upsample(cout)]);
    levels[i] = new Level(layout.blocks, blocks, layout.attends(o, i) ? { channels: cout, groups } : null, resample);
    cin = cout;
  }
  return down || !layout.decoderListsLowestFirst ? levels : levels.reverse();
}

/**
 * VQGAN encoder: `conv_in` → levels (taming: `down.i.block.j`,
 * `down.i.downsample` on all but the last) → `mid` → `norm_out` + SiLU →
 * `conv_out` to zChannels.
 */
export class CnnEncoder extends Module implements Layer {
  readonly convIn: Conv2d;
  readonly levels: ModuleList<Level>;
  readonly mid: Module & Layer;
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(readonly options: CnnOptions, readonly layout: CnnLayout = TAMING_LAYOUT) {
    super();
    const lowest = levelWidths(options).at(-1)!;
    const groups = options.normGroups ?? 32;
    this.convIn = this.child('conv_in', conv3(options.imageChannels, options.baseChannels));
    this.levels = this.child(layout.levelLists.encoder, new ModuleList(cnnLevels(options, 'down', layout)));
    this.mid = this.child('mid', layout.middle(lowest, groups, options));
    this.normOut = this.child('norm_out', norm(lowest, groups));
    this.convOut = this.child('conv_out', conv3(lowest, options.zChannels));
  }

  /** `[B, C, H, W] → [B, z, H/f, W/f]` with f = 2^(levels − 1); H and W must be multiples of f. */
  forward(x: Tensor): Tensor {
    const f = cnnDownsampleFactor(this.options);
    const [, C, H, W] = x.shape as [number, number, number, number];
    if (x.ndim !== 4 || C !== this.options.imageChannels) {
      throw new Error(`${this.layout.title} encoder expects [B, ${this.options.imageChannels}, H, W] (imageChannels), got [${x.shape}]`);
    }
    if (H % f !== 0 || W % f !== 0) {
      throw new Error(`${this.layout.title} encoder: image size ${H}×${W} is not divisible by the downsampling factor ${f} (from channelMultipliers)`);
    }
    return tidy(() => {
      let h = this.convIn.forward(x);
      for (const level of this.levels) h = level.forward(h);
      h = this.mid.forward(h);
      return normActConv(this.normOut, this.convOut, h);
    });
  }
}

/**
 * VQGAN decoder, the encoder mirrored: `conv_in` from zChannels → `mid` →
 * levels from the lowest resolution up (resBlocks + 1 blocks each, taming's
 * `up.i.upsample` on all but level 0) → `norm_out` + SiLU → `conv_out` to
 * image channels.
 */
export class CnnDecoder extends Module implements Layer {
  readonly convIn: Conv2d;
  readonly mid: Module & Layer;
  /** In the layout's list order (taming: `up.i` is level i). */
  readonly levels: ModuleList<Level>;
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;
  /** The levels in the order the latent flows through them, lowest resolution first. */
  readonly #flow: Level[];

  constructor(readonly options: CnnOptions, readonly layout: CnnLayout = TAMING_LAYOUT) {
    super();
    const widths = levelWidths(options);
    const groups = options.normGroups ?? 32;
    this.convIn = this.child('conv_in', conv3(options.zChannels, widths.at(-1)!));
    this.mid = this.child('mid', layout.middle(widths.at(-1)!, groups, options));
    this.levels = this.child(layout.levelLists.decoder, new ModuleList(cnnLevels(options, 'up', layout)));
    this.#flow = layout.decoderListsLowestFirst ? this.levels.items : [...this.levels.items].reverse();
    this.normOut = this.child('norm_out', norm(widths[0]!, groups));
    this.convOut = this.child('conv_out', conv3(widths[0]!, options.imageChannels));
  }

  /** `[B, z, h, w] → [B, C, h·f, w·f]` */
  forward(z: Tensor): Tensor {
    if (z.ndim !== 4 || z.size(1) !== this.options.zChannels) {
      throw new Error(`${this.layout.title} decoder expects [B, ${this.options.zChannels}, h, w] (zChannels), got [${z.shape}]`);
    }
    return tidy(() => {
      let h = this.mid.forward(this.convIn.forward(z));
      for (const level of this.#flow) h = level.forward(h);
      return normActConv(this.normOut, this.convOut, h);
    });
  }
}
