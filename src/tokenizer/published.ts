// Published tokenizers read from the files their authors released, so that
// pFID (docs/method.md §3) can rank the tokenizers people already have:
// LlamaGen's VQ-16 and VQ-8, taming-transformers' VQGAN f16 models and the
// RobusTok release's DINOv2-initialised ViT. Each kind names its upstream
// layout, the file it expects, where the state dict sits in that file,
// which keys belong to training only (taming's discriminator and LPIPS under
// `loss.`, LlamaGen's usage buffer, RobusTok's frozen DINOv2 and CLIP guides),
// and the images its model was trained on (docs/design.md §13).
//
// A file is checked before any weight is copied: the layout is read from
// its key names, the architecture's widths from its shapes (so narrower
// twins load too), the kind's defining numbers (levels, codebook size,
// metric) are compared with the kind asked for, then the full key set and
// every shape against the model built from them. A file of another model
// is refused naming the first missing and unexpected keys and the kind it
// looks like.
import { existsSync, statSync } from 'node:fs';
import { type PtValue, type Tensor, flattenStateDict, isFloatingPoint, loadPt, loadSafetensors } from '../torch/index.js';
import { refuseNonFiniteWeights } from '../train/index.js';
import type { CnnOptions, RobustokVitOptions } from '../architectures/index.js';
import type { ImageSpec } from './io.js';
import { Tokenizer, type TokenizerOptions, cnnOptionsOf } from './model.js';

export type PublishedKind = 'llamagen-vq16' | 'llamagen-vq8' | 'taming-f16-1024' | 'taming-f16-16384' | 'robustok';

/** The two CNN layouts (where each puts levels, blocks and the middle) and the RobusTok release's ViT. */
type Layout = 'llamagen' | 'taming' | 'robustok-vit';

export interface PublishedSpec {
  kind: PublishedKind;
  /** What it is, for messages and the README. */
  title: string;
  /** The upstream file(s) this kind reads, by their released names. */
  files: string;
  layout: Layout;
  /** The full-size architecture (upstream defaults). */
  options: TokenizerOptions;
  /** What the model was trained on: 256² RGB. robustok's [−1, 1] is also every upstream's range (none normalises by ImageNet's mean and std). */
  image: ImageSpec;
  /** Keys of the training-only parts the file may also hold. */
  trainingOnly: (key: string) => boolean;
  /** Buffers the model recomputes from its geometry: the file's copies must hold the same values. */
  recomputed: string[];
}

const RGB_256: ImageSpec = { size: 256, channels: 3, fit: 'resize', padValue: 255 };

/** taming's ddconfig and LlamaGen's ModelArgs: 128 base channels, 2 residual blocks, 256 latent channels, GroupNorm(32). */
const vqganCnn = (channelMultipliers: number[], attentionLevels: number[]): CnnOptions => ({
  imageChannels: 3, zChannels: 256, baseChannels: 128, channelMultipliers, resBlocks: 2, attention: true, attentionLevels, normGroups: 32,
});

const llamagen = (kind: PublishedKind, title: string, file: string, multipliers: number[]): PublishedSpec => ({
  kind, title, files: file, layout: 'llamagen', image: RGB_256,
  // codebook_l2_norm: codes and latents compared normalised (vq_model.py, VectorQuantizer).
  options: { architecture: 'llamagen', llamagen: vqganCnn(multipliers, [multipliers.length - 1]), codebookSize: 16384, codeDim: 8, distance: 'cosine' },
  trainingOnly: (key) => key === 'quantize.codebook_used',
  recomputed: [],
});

const taming = (kind: PublishedKind, codes: number): PublishedSpec => ({
  kind, title: `taming-transformers VQGAN f16, ${codes} codes (ImageNet)`, layout: 'taming', image: RGB_256,
  files: `vqgan_imagenet_f16_${codes}/checkpoints/last.ckpt (a Lightning checkpoint; its state_dict is read)`,
  // ch_mult [1, 1, 2, 2, 4], attn_resolutions [16] at resolution 256: the last level; embed_dim 256, Euclidean lookup.
  options: { architecture: 'cnn', cnn: vqganCnn([1, 1, 2, 2, 4], [4]), codebookSize: codes, codeDim: 256, distance: 'euclidean' },
  trainingOnly: (key) => key.startsWith('loss.'),
  recomputed: [],
});

/**
 * RobusTok (qiuk2/RobusTok, configs/main-train.yaml and post-train.yaml):
 * DINOv2 ViT-B/16 encoder and decoder at 256², 256 latent tokens read out
 * as 16×16, 4,096 codes of width 64 compared l2-normalised
 * (codebook_l2_norm). The state dict also holds the frozen guides of the
 * semantic and detail losses (`semantic_model`, a DINOv2; `detail_model`, a
 * CLIP ViT), `sem_linear` when present, and the quantizer's usage EMA.
 */
const robustok: PublishedSpec = {
  kind: 'robustok', title: 'RobusTok (DINOv2 ViT-B tokenizer, 256 latent tokens as 16×16, 4,096 codes of width 64)', layout: 'robustok-vit',
  files: 'main-train.pt or post-train.pt (huggingface.co/qiuk6/RobusTok; its "ema" weights are read when present, else "model")',
  image: RGB_256,
  options: {
    architecture: 'robustok-vit', codebookSize: 4096, codeDim: 64, distance: 'cosine',
    'robustok-vit': { imageSize: 256, patchSize: 16, imageChannels: 3, width: 768, depth: 12, heads: 12, mlpRatio: 4, numLatentTokens: 256 },
  },
  trainingOnly: (key) => /^(semantic_model|detail_model|sem_linear|semantic_loss|detail_loss)\./.test(key) || key === 'quantize.ema_vocab_hit_SV',
  recomputed: ['encoder.lvl1LC', 'decoder.lvl1LC'],
};

export const PUBLISHED: Record<PublishedKind, PublishedSpec> = {
  'llamagen-vq16': llamagen('llamagen-vq16', 'LlamaGen VQ-16 (downsampling 16, 16,384 codes of width 8)', 'vq_ds16_c2i.pt', [1, 1, 2, 2, 4]),
  'llamagen-vq8': llamagen('llamagen-vq8', 'LlamaGen VQ-8 (downsampling 8, 16,384 codes of width 8)', 'vq_ds8_c2i.pt', [1, 2, 2, 4]),
  'taming-f16-1024': taming('taming-f16-1024', 1024),
  'taming-f16-16384': taming('taming-f16-16384', 16384),
  robustok,
};

export const publishedKinds = Object.keys(PUBLISHED) as PublishedKind[];

export const isPublishedKind = (name: string): name is PublishedKind => Object.hasOwn(PUBLISHED, name);

/** The spec of `kind`, or an error listing the kinds. */
export function publishedSpec(kind: string): PublishedSpec {
  if (!isPublishedKind(kind)) throw new Error(`unknown tokenizer kind '${kind}'; the kinds are ${publishedKinds.join(', ')}`);
  return PUBLISHED[kind];
}

// ---- reading a file ---------------------------------------------------------------

/**
 * Wrappers a state dict may sit under, in the order upstream loaders try
 * them (LlamaGen's and RobusTok's sample code: "ema", then "model"):
 * Lightning's {"state_dict": ...}, DDP's "module.".
 */
const WRAPPERS = ['ema', 'model', 'state_dict', 'module'];

/**
 * Every tensor of `file` (torch.save or safetensors) under its state-dict
 * name, unwrapped from the first wrapper that holds an `encoder`.
 */
function readStateDict(file: string, spec: PublishedSpec): Record<string, Tensor> {
  if (!existsSync(file)) {
    throw new Error(`${file} does not exist: ${spec.kind} reads ${spec.files}, the file released by its authors, from your disk`);
  }
  if (statSync(file).isDirectory()) throw new Error(`${file} is a directory; ${spec.kind} reads one file, ${spec.files}`);
  let flat: Record<string, Tensor>;
  try {
    flat = file.endsWith('.safetensors') ? loadSafetensors(file).tensors : flattenStateDict(loadPt(file) as PtValue);
  } catch (error) {
    throw new Error(`${file} cannot be read as a ${spec.kind} checkpoint (is it truncated or damaged? download it again): ` +
      `${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    refuseNonFiniteWeights(file, Object.entries(flat), 'cannot be used', `download ${spec.files} again`);
  } catch (error) {
    for (const t of Object.values(flat)) t.dispose();
    throw error;
  }
  const wrapper = WRAPPERS.find((w) => Object.keys(flat).some((k) => k.startsWith(`${w}.encoder.`)));
  if (!wrapper) return flat;
  const under = `${wrapper}.`;
  const picked: Record<string, Tensor> = {};
  for (const [key, t] of Object.entries(flat)) {
    if (key.startsWith(under)) picked[key.slice(under.length)] = t;
    else t.dispose();
  }
  return picked;
}

/** Key names that tell the layouts apart. */
const SIGNS = {
  llamagen: 'encoder.conv_blocks.0.res.0.conv1.weight',
  taming: 'encoder.down.0.block.0.conv1.weight',
  'robustok-vit': 'encoder.model.pos_embed',
  vit: 'encoder.latent_tokens',
} as const;

/** Which published kind (or other tokenizer) a state dict looks like, in words. */
export function lookalike(keys: Record<string, Tensor>): string {
  const codes = keys['quantize.embedding.weight']?.shape[0];
  const levels = (prefix: string): number => new Set(Object.keys(keys).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split('.')[0])).size;
  if (SIGNS.llamagen in keys) {
    const n = levels('encoder.conv_blocks.');
    return n === 5 ? 'llamagen-vq16' : n === 4 ? 'llamagen-vq8' : `a LlamaGen VQ model with ${n} levels`;
  }
  if (SIGNS.taming in keys) {
    const n = levels('encoder.down.');
    if (n === 5 && (codes === 1024 || codes === 16384)) return `taming-f16-${codes}`;
    return `a taming-layout VQGAN (or a robustok CNN tokenizer) with ${n} levels and ${codes ?? 'no'} codes`;
  }
  if (SIGNS['robustok-vit'] in keys) return codes === 4096 ? 'robustok' : `a RobusTok-layout ViT tokenizer with ${codes ?? 'no'} codes`;
  if (SIGNS.vit in keys) return "a ViT tokenizer with latent tokens (robustok's own layout, written by train-tokenizer)";
  const roots = [...new Set(Object.keys(keys).map((k) => k.split('.')[0]))].slice(0, 6);
  return `no tokenizer robustok knows (top-level names: ${roots.join(', ') || 'none'})`;
}

/** The layout's name for level i's container and its residual blocks, per direction. */
const levelPrefix = (layout: Layout, part: 'encoder' | 'decoder', i: number, levels: number): string =>
  layout === 'llamagen'
    ? `${part}.conv_blocks.${part === 'encoder' ? i : levels - 1 - i}.res`
    : `${part}.${part === 'encoder' ? 'down' : 'up'}.${i}.block`;

/**
 * The CNN options the file's shapes imply, in the kind's layout; null when
 * the keys they are read from are missing (the key check then names them).
 */
function inferCnn(sd: Record<string, Tensor>, spec: PublishedSpec): { cnn: CnnOptions; codebookSize: number; codeDim: number } | null {
  const convIn = sd['encoder.conv_in.weight'];
  const quantConv = sd['quant_conv.weight'];
  const codes = sd['quantize.embedding.weight'];
  if (!convIn || !quantConv || !codes || convIn.ndim !== 4 || quantConv.ndim !== 4 || codes.ndim !== 2) return null;
  const base = convIn.shape[0]!;
  const levelsPrefix = spec.layout === 'llamagen' ? 'encoder.conv_blocks.' : 'encoder.down.';
  const levels = new Set(Object.keys(sd).filter((k) => k.startsWith(levelsPrefix)).map((k) => k.slice(levelsPrefix.length).split('.')[0])).size;
  if (levels === 0) return null;
  const multipliers: number[] = [];
  for (let i = 0; i < levels; i++) {
    const w = sd[`${levelPrefix(spec.layout, 'encoder', i, levels)}.0.conv1.weight`];
    if (!w || w.shape[0]! % base !== 0) return null;
    multipliers.push(w.shape[0]! / base);
  }
  const blocksPrefix = `${levelPrefix(spec.layout, 'encoder', 0, levels)}.`;
  const resBlocks = new Set(Object.keys(sd).filter((k) => k.startsWith(blocksPrefix)).map((k) => k.slice(blocksPrefix.length).split('.')[0])).size;
  const attentionLevels = spec.layout === 'llamagen'
    ? [levels - 1]
    : multipliers.map((_, i) => i).filter((i) => `encoder.down.${i}.attn.0.q.weight` in sd);
  const nominal = cnnOptionsOf(spec.options);
  return {
    cnn: { ...nominal!, imageChannels: convIn.shape[1]!, baseChannels: base, channelMultipliers: multipliers, resBlocks, attentionLevels,
      zChannels: quantConv.shape[1]! },
    codebookSize: codes.shape[0]!,
    codeDim: codes.shape[1]!,
  };
}

/** DINOv2's head width: ViT-S, -B, -L and -g all split their width into heads of 64. */
const DINOV2_HEAD_WIDTH = 64;

/**
 * The RobusTok ViT's geometry the file's shapes imply: width from the class
 * token, patch size from the patch embedding, image side from the positions
 * (P = (S/p)²), depth from the blocks, heads from DINOv2's head width; null
 * when a key it reads is missing (the key check then names it).
 */
function inferRobustokVit(sd: Record<string, Tensor>): RobustokVitOptions | null {
  const at = 'encoder.model.';
  const [cls, pos, proj, latents, fc1] = ['cls_token', 'pos_embed', 'patch_embed.proj.weight', '', 'blocks.0.mlp.fc1.weight']
    .map((k) => (k === '' ? sd['encoder.latent_tokens'] : sd[at + k]));
  if (!cls || !pos || !proj || !latents || !fc1 || cls.ndim !== 3 || pos.ndim !== 3 || proj.ndim !== 4 || latents.ndim !== 3) return null;
  const width = cls.shape[2]!;
  const side = Math.round(Math.sqrt(pos.shape[1]! - 1));
  if (side * side !== pos.shape[1]! - 1 || width % DINOV2_HEAD_WIDTH !== 0) return null;
  const depth = new Set(Object.keys(sd).filter((k) => k.startsWith(`${at}blocks.`)).map((k) => k.slice(`${at}blocks.`.length).split('.')[0])).size;
  return {
    imageSize: side * proj.shape[2]!, patchSize: proj.shape[2]!, imageChannels: proj.shape[1]!, width, depth,
    heads: width / DINOV2_HEAD_WIDTH, mlpRatio: fc1.shape[0]! / width, numLatentTokens: latents.shape[1]!,
  };
}

/** The options of the file's model in the kind's layout: widths from the file, the rest the kind's. */
function optionsFromFile(sd: Record<string, Tensor>, spec: PublishedSpec): TokenizerOptions {
  if (spec.layout === 'robustok-vit') {
    const vit = inferRobustokVit(sd);
    const codes = sd['quantize.embedding.weight'];
    if (!vit || !codes || codes.ndim !== 2) return spec.options;
    return { architecture: 'robustok-vit', 'robustok-vit': vit, codebookSize: codes.shape[0]!, codeDim: codes.shape[1]!, distance: spec.options.distance };
  }
  const inferred = inferCnn(sd, spec);
  if (!inferred) return spec.options;
  const { cnn, codebookSize, codeDim } = inferred;
  const common = { codebookSize, codeDim, distance: spec.options.distance };
  return spec.layout === 'llamagen' ? { architecture: 'llamagen', llamagen: cnn, ...common } : { architecture: 'cnn', cnn, ...common };
}

/** Throws unless the inferred model is the kind asked for: its levels (downsampling) and codebook. */
function checkKindNumbers(file: string, spec: PublishedSpec, options: TokenizerOptions, sd: Record<string, Tensor>): void {
  const want = spec.options;
  const levels = (o: TokenizerOptions): number => cnnOptionsOf(o)?.channelMultipliers.length ?? 0;
  const problems: string[] = [];
  if (levels(options) !== levels(want)) problems.push(`${levels(options)} levels (downsampling ${2 ** (levels(options) - 1)}) where ${spec.kind} has ${levels(want)} (downsampling ${2 ** (levels(want) - 1)})`);
  if (options.codebookSize !== want.codebookSize) problems.push(`${options.codebookSize} codes where ${spec.kind} has ${want.codebookSize}`);
  if (options.codeDim !== want.codeDim) problems.push(`codes of width ${options.codeDim} where ${spec.kind} has ${want.codeDim}`);
  const tokens = (o: TokenizerOptions): number => (o.architecture === 'robustok-vit' ? o['robustok-vit'].numLatentTokens : 0);
  if (tokens(options) !== tokens(want)) problems.push(`${tokens(options)} latent tokens where ${spec.kind} has ${tokens(want)}`);
  if (problems.length > 0) {
    throw new Error(`${file} is not a ${spec.kind} checkpoint: it has ${problems.join(', ')}; it looks like ${lookalike(sd)}`);
  }
}

/**
 * The strict key check: the file's keys (training-only ones dropped) must be
 * the model's, and every shape must match, before anything is copied.
 */
function checkKeys(file: string, spec: PublishedSpec, model: Tokenizer, sd: Record<string, Tensor>): void {
  const own = model.stateDict();
  const missing = Object.keys(own).filter((k) => !(k in sd));
  const unexpected = Object.keys(sd).filter((k) => !(k in own));
  if (missing.length + unexpected.length > 0) {
    const first = (what: string, keys: string[]): string => (keys.length === 0 ? `no ${what} keys` : `${keys.length} ${what} keys, the first '${keys[0]}'`);
    throw new Error(`${file} does not hold a ${spec.kind} model (${spec.title}): ${first('missing', missing)}; ` +
      `${first('unexpected', unexpected)}; it looks like ${lookalike(sd)}`);
  }
  for (const [key, target] of Object.entries(own)) {
    const source = sd[key]!;
    if (source.shape.join() !== target.shape.join()) {
      throw new Error(`${file}: '${key}' has shape [${source.shape}] but the ${spec.kind} model built from the file's other shapes needs [${target.shape}] (a damaged or edited file?)`);
    }
    if (!isFloatingPoint(source.dtype)) throw new Error(`${file}: '${key}' has dtype ${source.dtype}; a ${spec.kind} model's weights are floating point`);
  }
}

/**
 * The file's copies of the buffers the model recomputes (the RobusTok ViT's
 * token levels `lvl1LC`) must hold the model's values: another geometry
 * would feed the blocks other level embeddings. They are then dropped from `sd`.
 */
function checkRecomputed(file: string, spec: PublishedSpec, model: Tokenizer, sd: Record<string, Tensor>): void {
  const own = new Map(model.namedBuffers());
  for (const key of spec.recomputed) {
    const source = sd[key];
    if (!source) continue;
    delete sd[key];
    const values = (t: Tensor): number[] => Array.from(t.toTypedArray() as ArrayLike<number | bigint>, Number);
    const wanted = values(own.get(key)!);
    const found = values(source);
    source.dispose();
    if (found.length !== wanted.length || found.some((v, i) => v !== wanted[i])) {
      const latent = (v: number[]): string => `${v.filter((x) => x === 1).length} of ${v.length} tokens latent`;
      throw new Error(`${file}: '${key}' (the token levels) does not match the ${spec.kind} model built from the file's shapes ` +
        `(the file: ${latent(found)}; the model: ${latent(wanted)}): a file of another geometry or layout`);
    }
  }
}

export interface PublishedTokenizer {
  model: Tokenizer;
  /** The images the model was trained on (size, channels; its pixel range is in `model.options`). */
  image: ImageSpec;
  spec: PublishedSpec;
  /** Training-only tensors of the file that were left out. */
  ignored: number;
}

/**
 * Reads a released checkpoint of `kind` from `file` into a robustok
 * Tokenizer (eval mode), checked as the header describes.
 */
export function loadPublished(kind: string, file: string): PublishedTokenizer {
  const spec = publishedSpec(kind);
  const all = readStateDict(file, spec);
  const sd: Record<string, Tensor> = {};
  let ignored = 0;
  for (const [key, t] of Object.entries(all)) {
    if (spec.trainingOnly(key)) {
      ignored++;
      t.dispose();
    } else {
      sd[key] = t;
    }
  }
  let model: Tokenizer | undefined;
  try {
    const hasLayout = SIGNS[spec.layout] in sd;
    const options = hasLayout ? optionsFromFile(sd, spec) : spec.options;
    if (hasLayout) checkKindNumbers(file, spec, options, sd);
    model = new Tokenizer({ ...options, pixelRange: spec.options.pixelRange });
    checkRecomputed(file, spec, model, sd);
    checkKeys(file, spec, model, sd);
    model.loadStateDict(sd);
    // a ViT reads one image side, the one its positions were learned at
    const size = options.architecture === 'robustok-vit' ? options['robustok-vit'].imageSize : spec.image.size;
    return { model: model.eval(), image: { ...spec.image, size }, spec, ignored };
  } catch (error) {
    model?.dispose();
    throw error;
  } finally {
    for (const t of Object.values(sd)) t.dispose();
  }
}
