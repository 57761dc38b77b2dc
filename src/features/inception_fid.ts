// The InceptionV3 that FID is defined with: the 2015 TensorFlow graph
// (`inception-2015-12-05`, Heusel et al.'s TTUR code) as pytorch-fid and
// torch-fidelity port it, with their state-dict layout (torchvision's names,
// 1008 classes, no auxiliary head), so the user's
// `pt_inception-2015-12-05-6726825d.pth` loads as is. Only with these
// weights and this graph do FID numbers compare with published ones.
import { existsSync } from 'node:fs';
import { Linear, Module } from '../nn/index.js';
import {
  type Device, F, type Tensor, flattenStateDict, getRngState, loadPt, loadSafetensors, setRngState, tidy, zeros,
} from '../torch/index.js';
import { BasicConv2d, InceptionA, InceptionB, InceptionC, InceptionD, InceptionE, type PoolBranch } from './inception_blocks.js';
import type { FeatureNetwork } from './network.js';
import { runOnImages } from './preprocess.js';

export interface InceptionV3Options {
  /**
   * `fid` (default): the TF graph's pooling (average pools that skip padding,
   * a max pool in Mixed_7c's pool branch). `torchvision`: torchvision's
   * Inception3 blocks, for comparison only: the FID weights were not trained with them.
   */
  pooling?: 'fid' | 'torchvision';
}

/** The FID graph: 2048-d pooled features and its 1008-way classifier (TF's softmax layer: the 1000 ImageNet classes plus unused slots). */
export class FidInceptionV3 extends Module {
  readonly Conv2d_1a_3x3: BasicConv2d;
  readonly Conv2d_2a_3x3: BasicConv2d;
  readonly Conv2d_2b_3x3: BasicConv2d;
  readonly Conv2d_3b_1x1: BasicConv2d;
  readonly Conv2d_4a_3x3: BasicConv2d;
  readonly Mixed_5b: InceptionA;
  readonly Mixed_5c: InceptionA;
  readonly Mixed_5d: InceptionA;
  readonly Mixed_6a: InceptionB;
  readonly Mixed_6b: InceptionC;
  readonly Mixed_6c: InceptionC;
  readonly Mixed_6d: InceptionC;
  readonly Mixed_6e: InceptionC;
  readonly Mixed_7a: InceptionD;
  readonly Mixed_7b: InceptionE;
  readonly Mixed_7c: InceptionE;
  readonly fc: Linear;

  constructor(options: InceptionV3Options = {}) {
    super();
    const fid = (options.pooling ?? 'fid') === 'fid';
    const avg: PoolBranch = fid ? 'avg-exclude-pad' : 'avg';
    this.Conv2d_1a_3x3 = this.child('Conv2d_1a_3x3', new BasicConv2d(3, 32, 3, { stride: 2 }));
    this.Conv2d_2a_3x3 = this.child('Conv2d_2a_3x3', new BasicConv2d(32, 32, 3));
    this.Conv2d_2b_3x3 = this.child('Conv2d_2b_3x3', new BasicConv2d(32, 64, 3, { padding: 1 }));
    this.Conv2d_3b_1x1 = this.child('Conv2d_3b_1x1', new BasicConv2d(64, 80, 1));
    this.Conv2d_4a_3x3 = this.child('Conv2d_4a_3x3', new BasicConv2d(80, 192, 3));
    this.Mixed_5b = this.child('Mixed_5b', new InceptionA(192, 32, avg));
    this.Mixed_5c = this.child('Mixed_5c', new InceptionA(256, 64, avg));
    this.Mixed_5d = this.child('Mixed_5d', new InceptionA(288, 64, avg));
    this.Mixed_6a = this.child('Mixed_6a', new InceptionB(288));
    this.Mixed_6b = this.child('Mixed_6b', new InceptionC(768, 128, avg));
    this.Mixed_6c = this.child('Mixed_6c', new InceptionC(768, 160, avg));
    this.Mixed_6d = this.child('Mixed_6d', new InceptionC(768, 160, avg));
    this.Mixed_6e = this.child('Mixed_6e', new InceptionC(768, 192, avg));
    this.Mixed_7a = this.child('Mixed_7a', new InceptionD(768));
    this.Mixed_7b = this.child('Mixed_7b', new InceptionE(1280, avg));
    this.Mixed_7c = this.child('Mixed_7c', new InceptionE(2048, fid ? 'max' : 'avg'));
    this.fc = this.child('fc', new Linear(2048, 1008));
  }

  /**
   * Network input `[B, 3, H, W]` in [−1, 1] (299×299 for FID) → globally
   * average-pooled features `[B, 2048]`. Each stage runs in its own scope and
   * the previous activation is freed as soon as the next exists (autograd
   * keeps what it needs), so peak memory is one block's, not the network's.
   */
  pooled(x: Tensor): Tensor {
    const stages: ((h: Tensor) => Tensor)[] = [
      ...[this.Conv2d_1a_3x3, this.Conv2d_2a_3x3, this.Conv2d_2b_3x3].map((l) => (h: Tensor) => l.forward(h)),
      (h) => F.maxPool2d(h, 3, { stride: 2 }),
      (h) => this.Conv2d_4a_3x3.forward(this.Conv2d_3b_1x1.forward(h)),
      (h) => F.maxPool2d(h, 3, { stride: 2 }),
      ...[this.Mixed_5b, this.Mixed_5c, this.Mixed_5d, this.Mixed_6a, this.Mixed_6b, this.Mixed_6c,
        this.Mixed_6d, this.Mixed_6e, this.Mixed_7a, this.Mixed_7b, this.Mixed_7c].map((b) => (h: Tensor) => b.forward(h)),
      (h) => F.adaptiveAvgPool2d(h, 1).flatten(1),
    ];
    return stages.reduce((h, stage) => {
      const next = tidy(() => stage(h));
      if (h !== x) h.dispose();
      return next;
    }, x);
  }

  /** Network input `[B, 3, H, W]` → class logits `[B, 1008]`. */
  forward(x: Tensor): Tensor {
    return this.fc.forward(this.pooled(x));
  }
}

/** `inception-fid` as a FeatureNetwork: robustok images in, FID features and IS logits out. */
export class InceptionFid implements FeatureNetwork {
  readonly name = 'inception-fid';
  readonly inputSize = 299;
  readonly featureSize = 2048;
  readonly numClasses = 1008;

  /** `model` in eval mode with its weights loaded; the network owns it from here. */
  constructor(readonly model: FidInceptionV3, readonly device: Device = 'cpu') {
    model.eval().requiresGrad_(false);
  }

  /**
   * pytorch-fid resizes [0, 1] images to 299×299 bilinearly (align_corners
   * False, no antialiasing) and then maps them to 2x − 1; bilinear weights
   * sum to 1, so resizing our [−1, 1] images directly is the same map.
   * Grey images are repeated to 3 channels, as pytorch-fid's loaders convert
   * them to RGB.
   */
  #run(images: Tensor, head: (x: Tensor) => Tensor): Tensor {
    return runOnImages(images, { size: this.inputSize, channels: 3, device: this.device }, head);
  }

  /** Images `[B, 1|3, H, W]` in [−1, 1] → pool features `[B, 2048]` (what FID compares). */
  features(images: Tensor): Tensor {
    return this.#run(images, (x) => this.model.pooled(x));
  }

  /** Same input → logits `[B, 1008]`, with fc's bias. */
  logits(images: Tensor): Tensor {
    return this.#run(images, (x) => this.model.forward(x));
  }

  /**
   * Same input → logits without fc's bias `[B, 1008]`: what torch-fidelity's
   * Inception Score reads by default ('logits_unbiased'), so IS values compare with its numbers.
   */
  logitsUnbiased(images: Tensor): Tensor {
    return this.#run(images, (x) => F.linear(this.model.pooled(x), this.model.fc.weight));
  }

  dispose(): void {
    this.model.dispose();
  }
}

const expectedFile = "the FID InceptionV3 weights: pytorch-fid's pt_inception-2015-12-05-6726825d.pth " +
  '(https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth), ' +
  "torch-fidelity's weights-inception-2015-12-05-6726825d.pth, or a .safetensors copy of either";

/** The file's tensors under their dotted names: safetensors by extension, anything else as a torch.save file. */
function readWeights(file: string): Record<string, Tensor> {
  if (!existsSync(file)) throw new Error(`inception-fid: no weights file at ${file}; expected ${expectedFile}`);
  if (file.endsWith('.safetensors')) return loadSafetensors(file).tensors;
  return flattenStateDict(loadPt(file));
}

function listed(keys: string[]): string {
  const shown = keys.slice(0, 6).join(', ');
  return keys.length > 6 ? `${shown}, … (${keys.length} in all)` : shown;
}

/**
 * Checks the file's names and shapes against the model and returns the
 * state dict to load. BatchNorm's `num_batches_tracked` may be absent: the
 * FID files were converted from TF without it, and PyTorch's BatchNorm
 * accepts its absence in files saved without version metadata.
 */
function checkedStateDict(model: FidInceptionV3, weights: Record<string, Tensor>, file: string): Record<string, Tensor> {
  const own = model.stateDict();
  const optional = (key: string) => key.endsWith('.num_batches_tracked');
  const missing = Object.keys(own).filter((key) => !(key in weights) && !optional(key));
  const unexpected = Object.keys(weights).filter((key) => !(key in own));
  const misshapen = Object.keys(own).filter((key) => key in weights && weights[key]!.shape.join() !== own[key]!.shape.join());
  if (missing.length + unexpected.length + misshapen.length > 0) {
    const problems = [
      missing.length > 0 ? `missing keys: ${listed(missing)}` : '',
      unexpected.length > 0 ? `unexpected keys: ${listed(unexpected)}` : '',
      misshapen.length > 0 ? `wrong shapes: ${listed(misshapen.map((key) => `${key} [${weights[key]!.shape}] (expected [${own[key]!.shape}])`))}` : '',
    ].filter((p) => p !== '');
    // torchvision's ImageNet Inception3 has the same names but 1000 classes and other weights.
    const hint = weights['fc.weight']?.size(0) === 1000 ? ' This looks like torchvision\'s ImageNet Inception3, which gives FIDs that do not compare with published ones.' : '';
    throw new Error(`inception-fid: ${file} is not ${expectedFile}. ${problems.join('; ')}.${hint}`);
  }
  return Object.fromEntries(Object.keys(own).map((key) => [key, weights[key] ?? zeros([], { dtype: 'int64' })]));
}

/**
 * The FID InceptionV3 with weights from `weightsPath` (`.pth`/`.pt` as
 * torch.save writes them, or `.safetensors`), names and shapes checked
 * strictly. `device` places the weights; inputs are moved there.
 */
export function loadInceptionFid(weightsPath: string, options: { device?: Device } = {}): InceptionFid {
  // Building the layers draws PyTorch-style initial weights from the global
  // generator only to overwrite them; restoring its state keeps a caller's
  // seeded run independent of whether it loaded a feature network.
  const rng = getRngState();
  const model = new FidInceptionV3();
  setRngState(rng);
  rng.dispose();
  try {
    tidy(() => {
      const weights = readWeights(weightsPath);
      model.loadStateDict(checkedStateDict(model, weights, weightsPath));
    });
  } catch (error) {
    model.dispose();
    throw error;
  }
  if (options.device !== undefined) model.to(options.device);
  return new InceptionFid(model, options.device ?? 'cpu');
}
