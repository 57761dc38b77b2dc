// LPIPS, the learned perceptual distance of Zhang et al. 2018 ("The
// Unreasonable Effectiveness of Deep Features as a Perceptual Metric"),
// VGG16 variant, as the `lpips` package (v0.1 heads) and taming-transformers'
// copy of it compute it. VQGAN (Esser et al. 2021), LlamaGen and RobusTok
// (docs/method.md §4) train their tokenizers with it at weight 1.
//
// d(x0, x1) = Σ_l mean_hw( w_l · (ŷ0_l − ŷ1_l)² ), where ŷ_l are VGG16's
// activations at tap l scaled to unit length along the channels and w_l a
// learned non-negative 1×1 projection to one channel (the "lin" heads).
//
// No weights ship with robustok (docs/design.md §11: none are reachable offline), so
// `loadLpips` reads the user's files: torchvision's VGG16 and the lpips
// heads, or one LPIPS checkpoint holding both.
import { existsSync } from 'node:fs';
import { Conv2d, Module, type StateDict } from '../nn/index.js';
import { type Tensor, flattenStateDict, getRngState, loadPt, loadSafetensors, noGrad, setRngState, tensor } from '../torch/index.js';
import { Vgg16Features, vgg16ConvIndices, vgg16Taps, vgg16Widths, vgg16WidthsOf } from './vgg16.js';

/**
 * The lpips package's ScalingLayer: inputs in [−1, 1] become (x − shift)/scale.
 * These are ImageNet's per-channel mean and std (0.485/0.456/0.406,
 * 0.229/0.224/0.225) re-expressed for [−1, 1] inputs, rounded as lpips
 * rounded them; keeping lpips' rounding keeps our distances equal to its.
 */
const lpipsShift = [-0.03, -0.088, -0.188];
const lpipsScale = [0.458, 0.448, 0.45];

/**
 * Guards the division when a location's features are all zero (a dead ReLU
 * column); lpips adds the same 1e-10 to the norm.
 */
const normEps = 1e-10;

/** `[B, C, H, W]` (or features `[B, C]`) scaled to unit L2 norm along C at every location. */
export function unitChannels(x: Tensor): Tensor {
  // norm() rather than sqrt(sum(x²)): same value, and its gradient is 0 (not
  // NaN) where the norm is 0.
  return x.div(x.norm(2, 1, true).add(normEps));
}

/** The `model.1` of lpips' NetLinLayer (index 0 is a Dropout, which holds no weights). */
class HeadLayers extends Module {
  readonly conv: Conv2d;
  constructor(channels: number) {
    super();
    this.conv = this.child('1', new Conv2d(channels, 1, 1, { bias: false }));
  }
}

/**
 * One tap's learned weighting, lpips' NetLinLayer: a 1×1 convolution to one
 * channel, no bias. The Dropout in front of it only acts while the heads were
 * trained; LPIPS as a metric or a loss runs in eval mode, so it is left out.
 */
class LinearHead extends Module {
  readonly model: HeadLayers;
  constructor(channels: number) {
    super();
    this.model = this.child('model', new HeadLayers(channels));
  }
  /** `[B, C, h, w]` → `[B, 1, h, w]` */
  forward(x: Tensor): Tensor {
    return this.model.conv.forward(x);
  }
}

/**
 * State-dict names: `net.features.0.weight` … (torchvision's VGG16 under
 * `net`), `lin0.model.1.weight` … `lin4.model.1.weight` (as lpips' heads
 * file). Always frozen and in eval mode: gradients reach the input images only.
 */
export class Lpips extends Module {
  readonly net: Vgg16Features;
  readonly heads: LinearHead[];
  readonly #shift: Tensor;
  readonly #scale: Tensor;

  /** `widths`: VGG16 block widths (torchvision's by default; `loadLpips` reads them from the file). */
  constructor(widths: readonly number[] = vgg16Widths) {
    super();
    this.net = this.child('net', new Vgg16Features(widths));
    this.heads = widths.map((w, k) => this.child(`lin${k}`, new LinearHead(w)));
    this.#shift = this.buffer('shift', tensor(lpipsShift, { shape: [1, 3, 1, 1] }), false)!;
    this.#scale = this.buffer('scale', tensor(lpipsScale, { shape: [1, 3, 1, 1] }), false)!;
    this.eval().requiresGrad_(false);
  }

  /** Images in [−1, 1], grey or RGB → `[B, 3, H, W]` as VGG16's ImageNet weights expect. */
  #prepare(x: Tensor): Tensor {
    const rgb = x.size(1) === 1 ? x.expand(-1, 3, -1, -1) : x;
    return rgb.float().sub(this.#shift).div(this.#scale);
  }

  /**
   * x0, x1 `[B, C, H, W]` in [−1, 1], C = 1 (repeated to RGB) or 3, H, W ≥ 16
   * → LPIPS distance per image `[B]` (lpips' `[B, 1, 1, 1]` flattened).
   * Differentiable in both inputs.
   */
  forward(x0: Tensor, x1: Tensor): Tensor {
    if (x0.ndim !== 4 || (x0.size(1) !== 1 && x0.size(1) !== 3)) {
      throw new RangeError(`LPIPS takes images [B, 1 or 3, H, W], got [${x0.shape}]`);
    }
    if (x0.shape.join() !== x1.shape.join()) throw new RangeError(`LPIPS compares images of one shape, got [${x0.shape}] and [${x1.shape}]`);
    const taps0 = this.net.forward(this.#prepare(x0));
    const taps1 = this.net.forward(this.#prepare(x1));
    let total: Tensor | null = null;
    for (let k = 0; k < this.heads.length; k++) {
      const diff = unitChannels(taps0[k]!).sub(unitChannels(taps1[k]!)).square();
      const perTap = this.heads[k]!.forward(diff).mean([1, 2, 3]);
      total = total === null ? perTap : total.add(perTap);
    }
    return total!;
  }
}

/** Where `loadLpips` reads weights from. */
export interface LpipsFiles {
  /**
   * VGG16 weights: torchvision's `vgg16-397923af.pth` (or any state dict with
   * `features.*` keys; `classifier.*` keys are ignored), `.pth`/`.pt` or
   * `.safetensors`; or one LPIPS checkpoint holding `net.slice*` and `lin*` keys.
   */
  vgg: string;
  /** The heads: lpips' `weights/v0.1/vgg.pth` (also taming-transformers' `vgg.pth`); the same path as `vgg` for a combined checkpoint. */
  lin: string;
}

const expectedVgg = "torchvision's vgg16-397923af.pth (keys features.0.weight … features.28.bias) or an LPIPS checkpoint (net.slice1.0.weight …)";
const expectedLin = "lpips' weights/v0.1/vgg.pth (keys lin0.model.1.weight … lin4.model.1.weight)";

/** Every tensor of a .pth/.pt or .safetensors file under its dotted name. */
function readWeights(file: string, role: string): StateDict {
  if (!existsSync(file)) throw new Error(`LPIPS ${role} file ${file} does not exist`);
  if (file.endsWith('.safetensors')) return loadSafetensors(file).tensors;
  return flattenStateDict(loadPt(file));
}

/**
 * The prefixes under which `suffix` appears as a whole dotted name in `keys`
 * (a Lightning checkpoint nests an LPIPS as `state_dict.loss.perceptual_loss.`).
 */
function prefixesOf(keys: string[], suffix: string): string[] {
  return keys.filter((k) => k === suffix || k.endsWith(`.${suffix}`)).map((k) => k.slice(0, k.length - suffix.length));
}

function onePrefix(prefixes: string[], file: string, what: string): string {
  if (prefixes.length > 1) throw new Error(`${file} holds several ${what}s (under ${prefixes.map((p) => `'${p}'`).join(', ')}); give a file with one`);
  return prefixes[0]!;
}

function sampleKeys(keys: string[]): string {
  return keys.length === 0 ? 'none' : `${keys.slice(0, 6).join(', ')}${keys.length > 6 ? `, … (${keys.length} in all)` : ''}`;
}

/**
 * VGG16's convolution weights as torchvision names them (`features.N.*`),
 * picked out of `all`: under torchvision's names, or under LPIPS's
 * `sliceB.N.*` (whose indices are torchvision's, split over five Sequentials).
 */
function vggStateDict(all: StateDict, file: string): StateDict {
  const keys = Object.keys(all);
  const torchvision = prefixesOf(keys, 'features.0.weight');
  const sliced = prefixesOf(keys, 'slice1.0.weight');
  if (torchvision.length + sliced.length === 0) {
    throw new Error(`${file} holds no VGG16 weights: expected ${expectedVgg}; its keys: ${sampleKeys(keys)}`);
  }
  const layout = torchvision.length > 0 ? 'torchvision' : 'slices';
  const prefix = onePrefix(layout === 'torchvision' ? torchvision : sliced, file, 'VGG16');
  const picked: StateDict = {};
  const missing: string[] = [];
  vgg16ConvIndices.forEach((indices, b) => {
    for (const i of indices) {
      for (const p of ['weight', 'bias']) {
        const name = `${prefix}${layout === 'torchvision' ? 'features' : `slice${b + 1}`}.${i}.${p}`;
        if (all[name]) picked[`features.${i}.${p}`] = all[name]!;
        else missing.push(name);
      }
    }
  });
  if (missing.length > 0) throw new Error(`${file} lacks VGG16 weights ${missing.join(', ')} (expected ${expectedVgg})`);
  return picked;
}

/** The five heads' weights as `lin{k}.model.1.weight`. */
function linStateDict(all: StateDict, file: string): StateDict {
  const keys = Object.keys(all);
  const prefixes = prefixesOf(keys, 'lin0.model.1.weight');
  const prefix = prefixes.length === 0 ? null : onePrefix(prefixes, file, 'LPIPS head set');
  const picked: StateDict = {};
  const missing: string[] = [];
  for (let k = 0; k < vgg16Taps.length; k++) {
    const name = `${prefix ?? ''}lin${k}.model.1.weight`;
    if (all[name]) picked[`lin${k}.model.1.weight`] = all[name]!;
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new Error(`${file} lacks LPIPS head weights ${missing.join(', ')} (expected ${expectedLin}); its keys: ${sampleKeys(keys)}`);
  }
  return picked;
}

/**
 * LPIPS-VGG with weights from the user's files (see LpipsFiles), frozen and
 * in eval mode. The VGG16 block widths are read from the file, so any VGG16
 * of torchvision's layout loads. Throws naming the file and every missing or
 * mis-shaped key.
 */
export function loadLpips(files: LpipsFiles): Lpips {
  const vggAll = readWeights(files.vgg, 'VGG16 weights');
  const linAll = files.lin === files.vgg ? vggAll : readWeights(files.lin, 'head weights');
  try {
    const vgg = vggStateDict(vggAll, files.vgg);
    const lin = linStateDict(linAll, files.lin);
    const widths = vgg16WidthsOf(vgg, files.vgg);
    const headShape = (name: string) => [1, widths[Number(name[3])]!, 1, 1];
    const badHeads = Object.entries(lin).filter(([name, w]) => w.shape.join() !== headShape(name).join())
      .map(([name, w]) => `${name} has shape [${w.shape}], expected [${headShape(name)}]`);
    if (badHeads.length > 0) throw new Error(`${files.lin}: ${badHeads.join('; ')} (do the heads belong to this VGG16's widths [${widths}]?)`);
    // Its random initialisation is overwritten at once; leaving the global
    // stream as it was keeps a seeded run's later draws (tokenizer weights,
    // data order) the same with LPIPS on as with it off.
    const rngState = getRngState();
    let lpips: Lpips;
    try {
      lpips = new Lpips(widths);
    } finally {
      setRngState(rngState);
      rngState.dispose();
    }
    try {
      lpips.net.loadStateDict(vgg);
    } catch (error) {
      lpips.dispose();
      throw new Error(`${files.vgg}: ${(error as Error).message}`);
    }
    noGrad(() => {
      for (const [name, weight] of Object.entries(lin)) lpips.heads[Number(name[3])]!.model.conv.weight.copy_(weight);
    });
    return lpips;
  } finally {
    for (const t of new Set([...Object.values(vggAll), ...Object.values(linAll)])) t.dispose();
  }
}
