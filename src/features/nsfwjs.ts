// The two classifiers that ship inside the npm package nsfwjs (Infinite Red,
// MIT): a Keras InceptionV3 (299×299) and a Keras MobileNetV2 (224×224),
// each a Keras Applications backbone (marked frozen in the topology) under a
// 256 → 128 → 5 head trained to sort images into Drawing, Hentai, Neutral,
// Porn and Sexy. They are real pretrained networks available offline, which
// makes them usable feature networks for FID-style metrics where no standard
// Inception weights are reachable. Their numbers do NOT compare with
// published FIDs (those use the 2015 TF Inception graph, `inception-fid`):
// every number names the network.
//
// Version 4.3.0 is pinned: its model files are byte-identical to 4.4.0's,
// which asks for Node 22.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageDir } from '../data/index.js';
import type { Device, Tensor } from '../torch/index.js';
import { KerasGraph, type KerasModelTopology, type OutputRequest } from './keras_graph.js';
import type { FeatureNetwork } from './network.js';
import { type NetworkInput, runOnImages } from './preprocess.js';
import { type TfjsWeightSpec, decodeTfjsWeights } from './tfjs_weights.js';

export type NsfwjsVariant = 'inception' | 'mobilenet';

/** Class order of the 5-way head (nsfwjs's NSFW_CLASSES). */
export const nsfwjsClasses = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;

const folders: Record<NsfwjsVariant, string> = { inception: 'inception_v3', mobilenet: 'mobilenet_v2' };

/** A TF.js layers model as nsfwjs bundles it: Keras topology, weights manifest, and the shards' bytes concatenated. */
export interface NsfwjsModelFiles {
  topology: KerasModelTopology;
  weightSpecs: TfjsWeightSpec[];
  weightData: Uint8Array;
}

const require = createRequire(import.meta.url);

/** The model folder inside the installed package. */
function modelDir(variant: NsfwjsVariant): string {
  const dir = path.join(packageDir('nsfwjs', `nsfwjs-${variant}`), 'dist', 'models', folders[variant]);
  if (!existsSync(path.join(dir, 'model.min.js'))) throw new Error(`nsfwjs-${variant}: ${dir}/model.min.js is missing; reinstall with \`npm ci\``);
  return dir;
}

function checkVariant(variant: string): asserts variant is NsfwjsVariant {
  if (!Object.hasOwn(folders, variant)) throw new Error(`nsfwjs: unknown variant '${variant}' (known: ${Object.keys(folders).join(', ')})`);
}

/**
 * Reads a model's files as nsfwjs ships them: `model.min.js` and each
 * `group1-shardNofM.min.js` are UMD modules; the first exports
 * `{modelTopology, weightsManifest}`, each shard a base64 string of raw
 * weight bytes. They leave require's cache afterwards: the base64 text
 * (≈30 MB for InceptionV3) is needed only once.
 */
export function readNsfwjsFiles(variant: NsfwjsVariant): NsfwjsModelFiles {
  checkVariant(variant);
  const dir = modelDir(variant);
  const load = (file: string): unknown => {
    const full = path.join(dir, `${file}.min.js`);
    if (!existsSync(full)) throw new Error(`nsfwjs-${variant}: ${full} is missing (a damaged install? run \`npm ci\`)`);
    try {
      return require(full);
    } finally {
      delete require.cache[full];
    }
  };
  const model = load('model') as { modelTopology?: KerasModelTopology; weightsManifest?: { paths: string[]; weights: TfjsWeightSpec[] }[] };
  if (!model?.modelTopology || !Array.isArray(model.weightsManifest)) {
    throw new Error(`nsfwjs-${variant}: ${dir}/model.min.js does not export {modelTopology, weightsManifest}`);
  }
  const shards = model.weightsManifest.flatMap((group) => group.paths).map((file) => {
    const base64 = load(file);
    if (typeof base64 !== 'string') throw new Error(`nsfwjs-${variant}: ${file}.min.js does not export a base64 string`);
    return Buffer.from(base64, 'base64');
  });
  return {
    topology: model.modelTopology,
    weightSpecs: model.weightsManifest.flatMap((group) => group.weights),
    weightData: new Uint8Array(Buffer.concat(shards)),
  };
}

export interface NsfwjsOptions {
  /** Where the weights live (default cpu); images move there. */
  device?: Device;
  /** Fold BatchNorm into the convolutions (default true; false only to inspect per-layer outputs). */
  foldBatchNorm?: boolean;
}

/** An nsfwjs classifier as a FeatureNetwork: pooled backbone features and the 5-way head's logits. */
export class NsfwjsNetwork implements FeatureNetwork {
  readonly name: string;
  readonly inputSize: number;
  readonly featureSize: number;
  readonly numClasses: number;
  /** The layer whose output is `features` (the Flatten feeding the first Dense layer). */
  readonly featureLayer: string;

  constructor(readonly variant: NsfwjsVariant, readonly graph: KerasGraph, shape: ClassifierShape, readonly device: Device = 'cpu') {
    this.name = `nsfwjs-${variant}`;
    this.inputSize = shape.inputSize;
    this.featureLayer = shape.featureLayer;
    this.featureSize = shape.featureSize;
    this.numClasses = shape.numClasses;
  }

  /**
   * nsfwjs's preprocessing (dist/cjs/core.js, NSFWJS.infer): 0–255 pixels
   * divided by 255, then, unless the image is already size×size,
   * `tf.image.resizeBilinear(…, alignCorners = true)` to a square, aspect
   * ratio ignored. Our [−1, 1] maps to [0, 1] the same way; grey is repeated
   * to RGB.
   */
  #run(images: Tensor, request: OutputRequest): Tensor {
    const input: NetworkInput = { size: this.inputSize, channels: 3, range: [0, 1], alignCorners: true, device: this.device };
    return runOnImages(images, input, (x) => this.graph.run(x, [request])[0]!);
  }

  /** Images `[B, 1|3, H, W]` in [−1, 1] → the pooled backbone features `[B, featureSize]` that feed the head. */
  features(images: Tensor): Tensor {
    return this.#run(images, this.featureLayer);
  }

  /** Same input → the 5-way logits `[B, 5]` (the last Dense layer before its softmax), classes as `nsfwjsClasses`. */
  logits(images: Tensor): Tensor {
    return this.#run(images, { layer: this.graph.outputLayer, beforeActivation: true });
  }

  dispose(): void {
    this.graph.dispose();
  }
}

/** What a FeatureNetwork reports about the model, read from its topology and weights. */
export interface ClassifierShape {
  inputSize: number;
  featureLayer: string;
  featureSize: number;
  numClasses: number;
}

/**
 * Reads the parts of the topology a FeatureNetwork reports: the input side,
 * the layer feeding the first Dense layer (the backbone's pooled, flattened
 * features) with its width (that Dense kernel's input size), and the classes
 * of the last Dense layer, whose softmax `logits` leaves out.
 */
function classifierShape(topology: KerasModelTopology, weights: Map<string, Tensor>, what: string): ClassifierShape {
  const config = topology.model_config.config;
  const byName = new Map(config.layers.map((l) => [l.name, l]));
  const output = byName.get((config.output_layers[0] as string[])[0]!);
  const input = byName.get((config.input_layers[0] as string[])[0]!);
  const firstDense = config.layers.find((l) => l.class_name === 'Dense');
  const kernel = firstDense && weights.get(`${firstDense.name}/kernel`);
  const side = (input?.config.batch_input_shape as number[] | undefined)?.[1];
  if (!firstDense || !kernel || output?.class_name !== 'Dense' || output.config.activation !== 'softmax' || typeof side !== 'number') {
    throw new Error(`${what}: expected an image classifier whose head is Dense layers ending in a softmax; is this nsfwjs's model?`);
  }
  return {
    inputSize: side,
    featureLayer: ((firstDense.inbound_nodes[0] as unknown[][])[0] as string[])[0]!,
    featureSize: kernel.size(0),
    numClasses: Number(output.config.units),
  };
}

/** Loads `nsfwjs-inception` (2048-d features) or `nsfwjs-mobilenet` (1280-d) from the installed nsfwjs package. */
export function loadNsfwjs(variant: NsfwjsVariant, options: NsfwjsOptions = {}): NsfwjsNetwork {
  checkVariant(variant);
  const files = readNsfwjsFiles(variant);
  const weights = decodeTfjsWeights(files.weightSpecs, files.weightData, `nsfwjs-${variant}`);
  try {
    const graph = new KerasGraph(files.topology, weights, { device: options.device, foldBatchNorm: options.foldBatchNorm });
    try {
      return new NsfwjsNetwork(variant, graph, classifierShape(files.topology, weights, `nsfwjs-${variant}`), options.device);
    } catch (error) {
      graph.dispose();
      throw error;
    }
  } finally {
    for (const t of weights.values()) t.dispose();
  }
}
