// The discrete tokenizer (docs/method.md §1): encoder → projection to the code width
// → vector quantizer → projection back → decoder. The method is
// architecture-agnostic: a VQGAN-style CNN (this project's CPU scale) or
// RobusTok's ViT with latent tokens (reference scale).
import { Conv2d, Module } from '../nn/index.js';
import type { Tensor } from '../torch/index.js';
import { CnnDecoder, CnnEncoder, type CnnOptions } from './cnn.js';
import { type GaussianPerturbationOptions, gaussianPerturbation } from './gaussian_noise.js';
import { readTokenizerFiles } from './io.js';
import { type PerturbationOptions, type Perturbed, latentPerturbation } from './perturbation.js';
import { type Quantized, VectorQuantizer } from './quantizer.js';
import { fromTokens } from './tokens.js';
import { VitDecoder, VitEncoder, type VitOptions } from './vit.js';

export type TokenizerOptions =
  | { architecture: 'cnn'; cnn: CnnOptions; codebookSize: number; codeDim: number; commitmentWeight?: number }
  | { architecture: 'vit'; vit: VitOptions; codebookSize: number; codeDim: number; commitmentWeight?: number };

export interface Reconstruction {
  /** The decoded image `[B, C, H, W]`, from perturbed tokens when perturbation was asked for. */
  image: Tensor;
  quantized: Quantized;
  /** Present when perturbation was applied (after the VQ losses, as docs/method.md §2 requires). */
  perturbed: Perturbed | null;
}

export class Tokenizer extends Module {
  readonly encoder: CnnEncoder | VitEncoder;
  readonly decoder: CnnDecoder | VitDecoder;
  readonly quantize: VectorQuantizer;
  /** 1×1 convolutions between the CNN's latent width and the code width (taming's names); the ViT projects in its own head. */
  readonly quantConv: Conv2d | null;
  readonly postQuantConv: Conv2d | null;

  /**
   * Rebuilds a tokenizer that `saveTokenizer` (or `robustok train-tokenizer`)
   * wrote to `dir`, in eval mode. io.ts reads the files and imports this
   * module for types only, so the two have no import cycle.
   */
  static load(dir: string): Tokenizer {
    const { options, weights } = readTokenizerFiles(dir);
    try {
      let model: Tokenizer;
      try {
        model = new Tokenizer(options);
      } catch (error) {
        throw new Error(`${dir}/tokenizer.json: the options do not make a model: ${error instanceof Error ? error.message : String(error)}`);
      }
      try {
        model.loadStateDict(weights);
      } catch (error) {
        model.dispose();
        throw new Error(`${dir}: the weights do not fit the options in tokenizer.json: ${error instanceof Error ? error.message : String(error)}`);
      }
      return model.eval();
    } finally {
      for (const t of Object.values(weights)) t.dispose();
    }
  }

  constructor(readonly options: TokenizerOptions) {
    super();
    const { codebookSize, codeDim } = options;
    if (options.architecture === 'cnn') {
      this.encoder = this.child('encoder', new CnnEncoder(options.cnn));
      this.quantConv = this.child('quant_conv', new Conv2d(options.cnn.zChannels, codeDim, 1));
      this.quantize = this.child('quantize', new VectorQuantizer({ codebookSize, codeDim, commitmentWeight: options.commitmentWeight }));
      this.postQuantConv = this.child('post_quant_conv', new Conv2d(codeDim, options.cnn.zChannels, 1));
      this.decoder = this.child('decoder', new CnnDecoder(options.cnn));
    } else if (options.architecture === 'vit') {
      if (options.vit.codeDim !== codeDim) throw new Error(`vit.codeDim ${options.vit.codeDim} must equal codeDim ${codeDim}`);
      this.encoder = this.child('encoder', new VitEncoder(options.vit));
      this.quantConv = null;
      this.quantize = this.child('quantize', new VectorQuantizer({ codebookSize, codeDim, commitmentWeight: options.commitmentWeight }));
      this.postQuantConv = null;
      this.decoder = this.child('decoder', new VitDecoder(options.vit));
    } else {
      throw new Error(`architecture must be 'cnn' or 'vit', got '${(options as { architecture: string }).architecture}'`);
    }
  }

  /** Images `[B, C, H, W]` in [−1, 1] → quantized latents and code ids (`[B, h, w]` for the CNN, `[B, N]` for the ViT). */
  encode(images: Tensor): Quantized {
    const latent = this.encoder.forward(images);
    return this.quantize.forward(this.quantConv ? this.quantConv.forward(latent) : latent);
  }

  /** A quantized latent (`[B, D, h, w]` or `[B, N, D]`) → images `[B, C, H, W]`. */
  decode(latent: Tensor): Tensor {
    return this.decoder.forward(this.postQuantConv ? this.postQuantConv.forward(latent) : latent);
  }

  /** Code ids (`[B, h, w]` or `[B, N]`) → images, as a generator's samples are decoded. */
  decodeIds(ids: Tensor): Tensor {
    const [B] = ids.shape as [number];
    const vectors = this.quantize.lookup(ids);  // [B, N, D]
    if (this.options.architecture === 'vit') return this.decode(vectors);
    const [h, w] = ids.ndim === 3 ? ids.shape.slice(1) : squareGrid(ids.size(1));
    return this.decode(fromTokens(vectors, { spatial: true, shape: [B, this.options.codeDim, h!, w!] }));
  }

  /**
   * Latent perturbation (docs/method.md §2) of one of this tokenizer's encodings: each
   * token redrawn with probability α among the δ codes of this codebook
   * nearest its continuous latent; or, given `noiseScale`, the Gaussian-noise
   * variant (gaussian_noise.ts). `latent` comes back in `q.zq`'s layout.
   */
  perturb(q: Quantized, options: PerturbationOptions | GaussianPerturbationOptions): Perturbed {
    if ('noiseScale' in options) return gaussianPerturbation(q.zq, q.ids, options);
    return latentPerturbation(q.z, q.zq, this.quantize.embedding.weight, q.ids, options);
  }

  /**
   * Encode, optionally perturb (docs/method.md §2: after the VQ losses, so only the
   * reconstruction-side losses see it), decode.
   */
  forward(images: Tensor, perturbation?: PerturbationOptions | GaussianPerturbationOptions): Reconstruction {
    const quantized = this.encode(images);
    const perturbed = perturbation ? this.perturb(quantized, perturbation) : null;
    return { image: this.decode(perturbed ? perturbed.latent : quantized.zq), quantized, perturbed };
  }

  /** The decoder's last weight: where the VQGAN adaptive weight compares gradient norms (docs/method.md §4). */
  lastDecoderWeight(): Tensor {
    const params = this.decoder.namedParameters().filter(([name]) => name.endsWith('weight'));
    return params[params.length - 1]![1];
  }
}

/** The function form of `Tokenizer.load`. */
export const loadTokenizer = (dir: string): Tokenizer => Tokenizer.load(dir);

function squareGrid(n: number): [number, number] {
  const side = Math.round(Math.sqrt(n));
  if (side * side !== n) throw new Error(`${n} token ids do not form a square grid; pass ids as [B, h, w]`);
  return [side, side];
}
