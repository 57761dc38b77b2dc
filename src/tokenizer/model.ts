// The discrete tokenizer (docs/method.md §1): encoder → projection to the code width
// → vector quantizer → projection back → decoder. The method is
// architecture-agnostic: a VQGAN-style CNN (this project's CPU scale, and
// taming's released VQGANs), LlamaGen's VQ layout of that CNN, RobusTok's
// ViT with latent tokens (reference scale), or the DINOv2-layout ViT of the
// RobusTok release, whose latent tokens are read out as a grid. Parameter names are the upstream
// VQModel's (`encoder`, `quant_conv`, `quantize.embedding`,
// `post_quant_conv`, `decoder`), so released state dicts load as they are
// (published.ts).
import {
  CnnDecoder, CnnEncoder, type CnnOptions, LlamaGenDecoder, LlamaGenEncoder, RobustokVitDecoder, RobustokVitEncoder, type RobustokVitOptions,
  VitDecoder, VitEncoder, type VitOptions,
} from '../architectures/index.js';
import type { CodeDistance } from '../metrics/index.js';
import { Conv2d, Module } from '../nn/index.js';
import { type Tensor, phase } from '../torch/index.js';
import { type GaussianPerturbationOptions, gaussianPerturbation } from './gaussian_noise.js';
import { readTokenizerFiles } from './io.js';
import { type PerturbationOptions, type Perturbed, latentPerturbation, perturbationCandidates } from './perturbation.js';
import { type Quantized, VectorQuantizer } from './quantizer.js';
import { fromTokens } from './tokens.js';

/** What every architecture's options hold. */
interface QuantizerChoice {
  codebookSize: number;
  codeDim: number;
  commitmentWeight?: number;
  /** The quantizer's metric (default cosine; taming's VQGANs: euclidean). */
  distance?: CodeDistance;
  /**
   * The pixel range the encoder reads and the decoder writes (default
   * [−1, 1], robustok's own, LlamaGen's and taming's). The tokenizer maps
   * robustok's [−1, 1] images into it and its outputs back, so callers never
   * see another convention.
   */
  pixelRange?: [number, number];
}

export type TokenizerOptions = QuantizerChoice & (
  | { architecture: 'cnn'; cnn: CnnOptions }
  | { architecture: 'llamagen'; llamagen: CnnOptions }
  | { architecture: 'vit'; vit: VitOptions }
  | { architecture: 'robustok-vit'; 'robustok-vit': RobustokVitOptions });

/** The CNN options of a CNN architecture (taming's or LlamaGen's layout); null for the ViT. */
export const cnnOptionsOf = (o: TokenizerOptions): CnnOptions | null =>
  o.architecture === 'cnn' ? o.cnn : o.architecture === 'llamagen' ? o.llamagen : null;

type GridEncoder = CnnEncoder | LlamaGenEncoder | RobustokVitEncoder;
type GridDecoder = CnnDecoder | LlamaGenDecoder | RobustokVitDecoder;

/**
 * The architectures whose latent is a grid `[B, z, h, w]` that 1×1
 * `quant_conv`/`post_quant_conv` project to and from the code width: the
 * two CNN layouts and the release's ViT (z its width). null for robustok's own ViT.
 */
function gridParts(o: TokenizerOptions): { encoder: () => GridEncoder; decoder: () => GridDecoder; zChannels: number } | null {
  // Factories, not modules: the parts are built in the upstream order (encoder, quant_conv, quantizer,
  // post_quant_conv, decoder), so a seed gives the weights it always gave and the PyTorch twins agree.
  if (o.architecture === 'cnn') return { encoder: () => new CnnEncoder(o.cnn), decoder: () => new CnnDecoder(o.cnn), zChannels: o.cnn.zChannels };
  if (o.architecture === 'llamagen') return { encoder: () => new LlamaGenEncoder(o.llamagen), decoder: () => new LlamaGenDecoder(o.llamagen), zChannels: o.llamagen.zChannels };
  if (o.architecture === 'robustok-vit') {
    const vit = o['robustok-vit'];
    return { encoder: () => new RobustokVitEncoder(vit), decoder: () => new RobustokVitDecoder(vit), zChannels: vit.width };
  }
  return null;
}

export interface Reconstruction {
  /** The decoded image `[B, C, H, W]`, from perturbed tokens when perturbation was asked for. */
  image: Tensor;
  quantized: Quantized;
  /** Present when perturbation was applied (after the VQ losses, as docs/method.md §2 requires). */
  perturbed: Perturbed | null;
}

export class Tokenizer extends Module {
  readonly encoder: GridEncoder | VitEncoder;
  readonly decoder: GridDecoder | VitDecoder;
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
    const { codebookSize, codeDim, commitmentWeight, distance } = options;
    const quantizer = (): VectorQuantizer => new VectorQuantizer({ codebookSize, codeDim, commitmentWeight, distance });
    const range = options.pixelRange;
    if (range !== undefined && !(Array.isArray(range) && range.length === 2 && range.every(Number.isFinite) && range[0] < range[1])) {
      throw new Error(`pixelRange must be [low, high] with low < high, got ${JSON.stringify(range)}`);
    }
    const grid = gridParts(options);
    if (grid) {
      this.encoder = this.child('encoder', grid.encoder());
      this.quantConv = this.child('quant_conv', new Conv2d(grid.zChannels, codeDim, 1));
      this.quantize = this.child('quantize', quantizer());
      this.postQuantConv = this.child('post_quant_conv', new Conv2d(codeDim, grid.zChannels, 1));
      this.decoder = this.child('decoder', grid.decoder());
    } else if (options.architecture === 'vit') {
      if (options.vit.codeDim !== codeDim) throw new Error(`vit.codeDim ${options.vit.codeDim} must equal codeDim ${codeDim}`);
      this.encoder = this.child('encoder', new VitEncoder(options.vit));
      this.quantConv = null;
      this.quantize = this.child('quantize', quantizer());
      this.postQuantConv = null;
      this.decoder = this.child('decoder', new VitDecoder(options.vit));
    } else {
      throw new Error(`architecture must be 'cnn', 'llamagen', 'vit' or 'robustok-vit', got '${(options as { architecture: string }).architecture}'`);
    }
  }

  /** Images `[B, C, H, W]` in [−1, 1] → quantized latents and code ids (`[B, h, w]` for the CNN, `[B, N]` for the ViT). */
  encode(images: Tensor): Quantized {
    const latent = phase('encoder', () => {
      const z = this.encoder.forward(this.#toModelPixels(images));
      return this.quantConv ? this.quantConv.forward(z) : z;
    });
    return phase('quantize', () => this.quantize.forward(latent));
  }

  /** A quantized latent (`[B, D, h, w]` or `[B, N, D]`) → images `[B, C, H, W]`. */
  decode(latent: Tensor): Tensor {
    return phase('decoder', () => this.#fromModelPixels(this.decoder.forward(this.postQuantConv ? this.postQuantConv.forward(latent) : latent)));
  }

  /** robustok's [−1, 1] → the model's pixelRange (an affine map; nothing for [−1, 1]). */
  #toModelPixels(images: Tensor): Tensor {
    const range = this.options.pixelRange;
    if (!range || (range[0] === -1 && range[1] === 1)) return images;
    return images.add(1).mul((range[1] - range[0]) / 2).add(range[0]);
  }

  /** The model's pixelRange → robustok's [−1, 1]. */
  #fromModelPixels(images: Tensor): Tensor {
    const range = this.options.pixelRange;
    if (!range || (range[0] === -1 && range[1] === 1)) return images;
    return images.sub(range[0]).mul(2 / (range[1] - range[0])).sub(1);
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
   * nearest its continuous latent (by the quantizer's own metric); or, for
   * kind 'gaussian', the Gaussian-noise variant (gaussian_noise.ts). `latent`
   * comes back in `q.zq`'s layout.
   */
  perturb(q: Quantized, options: PerturbationOptions | GaussianPerturbationOptions): Perturbed {
    return phase('perturbation', () => options.kind === 'gaussian'
      ? gaussianPerturbation(q.zq, q.ids, options)
      : latentPerturbation(q.z, q.zq, this.quantize.embedding.weight, q.ids, options, this.quantize.distance));
  }

  /** The δ codes `[B, N, δ]` that `perturb` draws each token of `q` from, nearest first (index 0: `q.ids`). */
  candidates(q: Quantized, delta: number): Tensor {
    return perturbationCandidates(q.z, this.quantize.embedding.weight, delta, this.quantize.distance);
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
