// The building blocks of VQGAN's convolutional encoder and decoder (Esser et
// al., "Taming Transformers for High-Resolution Image Synthesis", CVPR 2021),
// shared by every CNN layout robustok reads: its own (cnn.ts, taming's
// names), and LlamaGen's VQ models (llamagen.ts), whose blocks are
// taming's under other container names (FoundationVision/LlamaGen,
// tokenizer/tokenizer_image/vq_model.py). Block-level names (`norm1`,
// `conv1`, `nin_shortcut`, `q`, `proj_out`, `conv`) are the same in both.
//
// Every composite forward runs in its own `tidy` scope (and normActConv frees
// its two intermediates at once), so activations that autograd does not save
// are freed as soon as they are used, as Python's reference counting frees
// them (see cnn.ts for the measurement behind this).
import { Conv2d, GroupNorm, type Layer, Module, ModuleList } from '../nn/index.js';
import { F, type Tensor, tidy } from '../torch/index.js';

/** GroupNorm with min(groups, C) groups (the rule documented on `normGroups`); ε = 1e-6 as taming. */
export const norm = (channels: number, groups: number): GroupNorm => new GroupNorm(Math.min(groups, channels), channels, { eps: 1e-6 });
export const conv3 = (cin: number, cout: number): Conv2d => new Conv2d(cin, cout, 3, { padding: 1 });

/**
 * conv(SiLU(norm(x))) `[B, cin, H, W] → [B, cout, H, W]`, each intermediate
 * freed as soon as the next op has read it, as Python's reference counting
 * frees it: the convolution's output then reuses the normalised map's
 * still-cached buffer (the freeing that matched PyTorch's decode time).
 */
export function normActConv(norm: GroupNorm, conv: Conv2d, x: Tensor): Tensor {
  const normed = norm.forward(x);
  const activated = F.silu(normed);
  normed.dispose();
  const out = conv.forward(activated);
  activated.dispose();
  return out;
}

/** x + conv(SiLU(norm(conv(SiLU(norm(x)))))), with a 1×1 `nin_shortcut` when the width changes (He et al., 2016). */
export class ResnetBlock extends Module implements Layer {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly ninShortcut: Conv2d | null;

  constructor(cin: number, cout: number, groups: number) {
    super();
    this.norm1 = this.child('norm1', norm(cin, groups));
    this.conv1 = this.child('conv1', conv3(cin, cout));
    this.norm2 = this.child('norm2', norm(cout, groups));
    this.conv2 = this.child('conv2', conv3(cout, cout));
    this.ninShortcut = cin === cout ? null : this.child('nin_shortcut', new Conv2d(cin, cout, 1));
  }

  /** `[B, cin, H, W] → [B, cout, H, W]` */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const out = normActConv(this.norm2, this.conv2, normActConv(this.norm1, this.conv1, x));
      return (this.ninShortcut ? this.ninShortcut.forward(x) : x).add(out);
    });
  }
}

/**
 * Single-head self-attention over all positions of a feature map (taming's
 * AttnBlock): 1×1 convs for q, k, v and the output, scale 1/√C. At the lowest
 * resolution it lets every latent see the whole image at small cost.
 */
export class AttnBlock extends Module implements Layer {
  readonly norm: GroupNorm;
  readonly q: Conv2d;
  readonly k: Conv2d;
  readonly v: Conv2d;
  readonly projOut: Conv2d;

  constructor(channels: number, groups: number) {
    super();
    this.norm = this.child('norm', norm(channels, groups));
    this.q = this.child('q', new Conv2d(channels, channels, 1));
    this.k = this.child('k', new Conv2d(channels, channels, 1));
    this.v = this.child('v', new Conv2d(channels, channels, 1));
    this.projOut = this.child('proj_out', new Conv2d(channels, channels, 1));
  }

  /** `[B, C, H, W] → [B, C, H, W]` */
  forward(x: Tensor): Tensor {
    const [B, C, H, W] = x.shape as [number, number, number, number];
    const h = this.norm.forward(x);
    // [B, C, H, W] → [B, 1, HW, C]: one head over the HW positions
    const tokens = (t: Tensor): Tensor => t.reshape(B, 1, C, H * W).transpose(2, 3);
    const out = F.scaledDotProductAttention(tokens(this.q.forward(h)), tokens(this.k.forward(h)), tokens(this.v.forward(h)));
    return x.add(this.projOut.forward(out.transpose(2, 3).reshape(B, C, H, W)));
  }
}

/**
 * Halves the resolution with a 3×3 stride-2 convolution, padded (0, 1, 0, 1)
 * as taming does (a learned downsampling rather than average pooling).
 */
export class Downsample extends Module implements Layer {
  readonly conv: Conv2d;
  constructor(channels: number) {
    super();
    this.conv = this.child('conv', new Conv2d(channels, channels, 3, { stride: 2 }));
  }
  /** `[B, C, H, W] → [B, C, H/2, W/2]` */
  forward(x: Tensor): Tensor {
    return tidy(() => this.conv.forward(F.pad(x, [0, 1, 0, 1])));
  }
}

/** Doubles the resolution: nearest-neighbour upsampling then a 3×3 conv (no checkerboard artefacts of transposed convs). */
export class Upsample extends Module implements Layer {
  readonly conv: Conv2d;
  constructor(channels: number) {
    super();
    this.conv = this.child('conv', conv3(channels, channels));
  }
  /** `[B, C, H, W] → [B, C, 2H, 2W]` */
  forward(x: Tensor): Tensor {
    return tidy(() => this.conv.forward(F.interpolate(x, { scaleFactor: 2, mode: 'nearest' })));
  }
}

/**
 * One resolution level: residual blocks (`block` in taming, `res` in
 * LlamaGen), each followed by self-attention where the level has it
 * (`attn.j`; taming's attn_resolutions, LlamaGen's lowest level), then an
 * optional `downsample`/`upsample`.
 */
export class Level extends Module implements Layer {
  readonly blocks: ModuleList<ResnetBlock>;
  /** Empty, or one AttnBlock after each residual block. */
  readonly attn: ModuleList<AttnBlock>;
  readonly resample: (Module & Layer) | null;

  constructor(blocksName: 'block' | 'res', blocks: ResnetBlock[], attention: { channels: number; groups: number } | null,
    resample: ['downsample' | 'upsample', Module & Layer] | null) {
    super();
    this.blocks = this.child(blocksName, new ModuleList(blocks));
    this.attn = this.child('attn', new ModuleList(attention ? blocks.map(() => new AttnBlock(attention.channels, attention.groups)) : []));
    this.resample = resample ? this.child(resample[0], resample[1]) : null;
  }

  /** `[B, cin, H, W] → [B, cout, H', W']` */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const h = this.blocks.items.reduce((t, b, j) => {
        const out = b.forward(t);
        return this.attn.length > 0 ? this.attn.at(j).forward(out) : out;
      }, x);
      return this.resample ? this.resample.forward(h) : h;
    });
  }
}

/** `block_1`, optional `attn_1`, `block_2` at the lowest resolution. */
export class Mid extends Module implements Layer {
  readonly block1: ResnetBlock;
  readonly attn1: AttnBlock | null;
  readonly block2: ResnetBlock;

  constructor(channels: number, groups: number, attention: boolean) {
    super();
    this.block1 = this.child('block_1', new ResnetBlock(channels, channels, groups));
    this.attn1 = attention ? this.child('attn_1', new AttnBlock(channels, groups)) : null;
    this.block2 = this.child('block_2', new ResnetBlock(channels, channels, groups));
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const h = this.block1.forward(x);
      return this.block2.forward(this.attn1 ? this.attn1.forward(h) : h);
    });
  }
}

