// LlamaGen's VQ encoder and decoder (Sun et al., "Autoregressive Model Beats
// Diffusion: Llama for Scalable Image Generation", 2024; FoundationVision/
// LlamaGen, tokenizer/tokenizer_image/vq_model.py). The network is taming's
// VQGAN (the blocks of vqgan_blocks.ts) with attention after every residual
// block of the lowest level, but the containers carry other names, so the
// released files (vq_ds16_c2i.pt, vq_ds8_c2i.pt) load only into this layout:
//   - a level is `conv_blocks.i` with `res.j`, `attn.j` and `downsample`/`upsample`;
//   - the middle is a list, `mid.0` (residual), `mid.1` (attention), `mid.2` (residual);
//   - the decoder lists its levels from the lowest resolution up:
//     `conv_blocks.0` is the last level (taming's `up.i` is level i).
// VQ-16 has channel multipliers [1, 1, 2, 2, 4] (f = 16), VQ-8 [1, 2, 2, 4]
// (f = 8), both with 128 base channels, 2 residual blocks, 256 latent channels.
import { type Conv2d, type GroupNorm, type Layer, Module, ModuleList } from '../nn/index.js';
import { type Tensor, tidy } from '../torch/index.js';
import { type CnnOptions, cnnDownsampleFactor, levelWidths } from './cnn.js';
import { AttnBlock, Downsample, Level, ResnetBlock, Upsample, conv3, norm, normActConv } from './vqgan_blocks.js';

/** `mid.0`, `mid.1`, `mid.2`: residual, attention, residual, as a list. */
const middle = (channels: number, groups: number): ModuleList<Module & Layer> =>
  new ModuleList<Module & Layer>([new ResnetBlock(channels, channels, groups), new AttnBlock(channels, groups), new ResnetBlock(channels, channels, groups)]);

/** Attention after every residual block of the lowest level only (vq_model.py: `i_level == num_resolutions - 1`). */
const attentionAt = (o: CnnOptions, level: number, channels: number): { channels: number; groups: number } | null =>
  level === o.channelMultipliers.length - 1 ? { channels, groups: o.normGroups ?? 32 } : null;

/**
 * Encoder: `conv_in` → `conv_blocks.i` (resBlocks residual blocks each, with
 * attention at the last level, `downsample` on all but the last) → `mid` →
 * `norm_out` + SiLU → `conv_out` to zChannels.
 */
export class LlamaGenEncoder extends Module implements Layer {
  readonly convIn: Conv2d;
  readonly convBlocks: ModuleList<Level>;
  readonly mid: ModuleList<Module & Layer>;
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(readonly options: CnnOptions) {
    super();
    const widths = levelWidths(options);
    const groups = options.normGroups ?? 32;
    this.convIn = this.child('conv_in', conv3(options.imageChannels, options.baseChannels));
    this.convBlocks = this.child('conv_blocks', new ModuleList<Level>());
    let cin = options.baseChannels;
    widths.forEach((cout, i) => {
      const blocks = Array.from({ length: options.resBlocks }, (_, j) => new ResnetBlock(j === 0 ? cin : cout, cout, groups));
      const last = i === widths.length - 1;
      this.convBlocks.push(new Level('res', blocks, attentionAt(options, i, cout), last ? null : ['downsample', new Downsample(cout)]));
      cin = cout;
    });
    this.mid = this.child('mid', middle(cin, groups));
    this.normOut = this.child('norm_out', norm(cin, groups));
    this.convOut = this.child('conv_out', conv3(cin, options.zChannels));
  }

  /** `[B, C, H, W] → [B, z, H/f, W/f]`; H and W must be multiples of f. */
  forward(x: Tensor): Tensor {
    const f = cnnDownsampleFactor(this.options);
    if (x.ndim !== 4 || x.size(1) !== this.options.imageChannels || x.size(2) % f !== 0 || x.size(3) % f !== 0) {
      throw new Error(`LlamaGen encoder expects [B, ${this.options.imageChannels}, H, W] with H and W multiples of ${f}, got [${x.shape}]`);
    }
    return tidy(() => {
      let h = this.convIn.forward(x);
      for (const level of this.convBlocks) h = level.forward(h);
      for (const block of this.mid) h = block.forward(h);
      return normActConv(this.normOut, this.convOut, h);
    });
  }
}

/**
 * Decoder: `conv_in` from zChannels → `mid` → `conv_blocks.k` for level
 * L−1−k (resBlocks + 1 residual blocks, attention at the lowest level,
 * `upsample` on all but level 0) → `norm_out` + SiLU → `conv_out`.
 */
export class LlamaGenDecoder extends Module implements Layer {
  readonly convIn: Conv2d;
  readonly mid: ModuleList<Module & Layer>;
  readonly convBlocks: ModuleList<Level>;
  readonly normOut: GroupNorm;
  readonly convOut: Conv2d;

  constructor(readonly options: CnnOptions) {
    super();
    const widths = levelWidths(options);
    const groups = options.normGroups ?? 32;
    let cin = widths.at(-1)!;
    this.convIn = this.child('conv_in', conv3(options.zChannels, cin));
    this.mid = this.child('mid', middle(cin, groups));
    this.convBlocks = this.child('conv_blocks', new ModuleList<Level>());
    for (let i = widths.length - 1; i >= 0; i--) {
      const cout = widths[i]!;
      const blocks = Array.from({ length: options.resBlocks + 1 }, (_, j) => new ResnetBlock(j === 0 ? cin : cout, cout, groups));
      this.convBlocks.push(new Level('res', blocks, attentionAt(options, i, cout), i === 0 ? null : ['upsample', new Upsample(cout)]));
      cin = cout;
    }
    this.normOut = this.child('norm_out', norm(cin, groups));
    this.convOut = this.child('conv_out', conv3(cin, options.imageChannels));
  }

  /** `[B, z, h, w] → [B, C, h·f, w·f]` */
  forward(z: Tensor): Tensor {
    if (z.ndim !== 4 || z.size(1) !== this.options.zChannels) {
      throw new Error(`LlamaGen decoder expects [B, ${this.options.zChannels}, h, w] (zChannels), got [${z.shape}]`);
    }
    return tidy(() => {
      let h = this.convIn.forward(z);
      for (const block of this.mid) h = block.forward(h);
      for (const level of this.convBlocks) h = level.forward(h);
      return normActConv(this.normOut, this.convOut, h);
    });
  }
}
