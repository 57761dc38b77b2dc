// LlamaGen's VQ encoder and decoder (Sun et al., "Autoregressive Model Beats
// Diffusion: Llama for Scalable Image Generation", 2024; FoundationVision/
// LlamaGen, tokenizer/tokenizer_image/vq_model.py). The network is taming's
// VQGAN (cnn.ts's encoder and decoder, built from the same blocks in the same
// order) with attention after every residual block of the lowest level, but
// the containers carry other names, so the released files (vq_ds16_c2i.pt,
// vq_ds8_c2i.pt) load only into this layout, a `CnnLayout`:
//   - a level is `conv_blocks.i` with `res.j`, `attn.j` and `downsample`/`upsample`;
//   - the middle is a list, `mid.0` (residual), `mid.1` (attention), `mid.2` (residual);
//   - the decoder lists its levels from the lowest resolution up:
//     `conv_blocks.0` is the last level (taming's `up.i` is level i).
// VQ-16 has channel multipliers [1, 1, 2, 2, 4] (f = 16), VQ-8 [1, 2, 2, 4]
// (f = 8), both with 128 base channels, 2 residual blocks, 256 latent channels.
import { type Layer, type Module, Sequential } from '../nn/index.js';
import { CnnDecoder, CnnEncoder, type CnnLayout, type CnnOptions } from './cnn.js';
import { AttnBlock, ResnetBlock } from './vqgan_blocks.js';

/** LlamaGen's names and attention placement for cnn.ts's encoder and decoder. */
export const LLAMAGEN_LAYOUT: CnnLayout = {
  title: 'LlamaGen',
  levelLists: { encoder: 'conv_blocks', decoder: 'conv_blocks' },
  blocks: 'res',
  decoderListsLowestFirst: true,
  // attention after every residual block of the lowest level only (vq_model.py: `i_level == num_resolutions - 1`)
  attends: (o, level) => level === o.channelMultipliers.length - 1,
  // `mid.0`, `mid.1`, `mid.2`: residual, attention, residual, as a list
  middle: (channels, groups): Module & Layer =>
    new Sequential(new ResnetBlock(channels, channels, groups), new AttnBlock(channels, groups), new ResnetBlock(channels, channels, groups)),
};

/**
 * Encoder: `conv_in` → `conv_blocks.i` (resBlocks residual blocks each, with
 * attention at the last level, `downsample` on all but the last) → `mid` →
 * `norm_out` + SiLU → `conv_out` to zChannels.
 */
export class LlamaGenEncoder extends CnnEncoder {
  constructor(options: CnnOptions) {
    super(options, LLAMAGEN_LAYOUT);
  }
}

/**
 * Decoder: `conv_in` from zChannels → `mid` → `conv_blocks.k` for level
 * L−1−k (resBlocks + 1 residual blocks, attention at the lowest level,
 * `upsample` on all but level 0) → `norm_out` + SiLU → `conv_out`.
 */
export class LlamaGenDecoder extends CnnDecoder {
  constructor(options: CnnOptions) {
    super(options, LLAMAGEN_LAYOUT);
  }
}
