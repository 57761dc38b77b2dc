// An interpreter for Keras functional models: the `model_config` that
// Keras's `model.to_json()` writes and TF.js layers models embed in their
// model.json, run on robustok's ops. It lets robustok use pretrained Keras
// networks that ship inside npm packages (nsfwjs) without TensorFlow: the
// topology is read as data, each layer becomes one or two libtorch ops, and
// the weights are transposed once, at load, from Keras's layouts.
//
// Keras is channels-last (`[B, H, W, C]`); every 4-d value here is
// `[B, C, H, W]`. Channel axes (BatchNormalization, Concatenate, softmax)
// are mapped accordingly, and Flatten permutes back to `[B, H, W, C]` before
// flattening so that a Dense layer after it sees its inputs in the order it
// was trained with.
import { type Device, type Tensor, noGrad, tidy } from '../torch/index.js';
import { type ConvSpec, type KerasLayer, type LayerNode, buildNode, convForward } from './keras_layers.js';

export { type KerasLayer, samePadding, supportedLayers } from './keras_layers.js';

/** The `modelTopology` of a TF.js layers model (Keras's JSON). */
export interface KerasModelTopology {
  model_config: { class_name: string; config: { layers: KerasLayer[]; input_layers: unknown[]; output_layers: unknown[] } };
}

export interface KerasGraphOptions {
  /**
   * Fold each BatchNormalization into the convolution that feeds it
   * (default true): one op instead of two, same function in inference. The
   * folded convolution's own output then no longer exists.
   */
  foldBatchNorm?: boolean;
  /** Where the weights live (default cpu); inputs must be on the same device. */
  device?: Device;
}

/** A layer's output, or its value before its own `activation` option (a Dense layer's logits before softmax). */
export type OutputRequest = string | { layer: string; beforeActivation: true };

/**
 * A Keras functional model over robustok ops. Weights come as a name → tensor
 * map in Keras's layouts (`conv2d_1/kernel` `[kh, kw, in, out]`, …), which the
 * graph copies into its own layouts; the caller keeps (and frees) the map.
 */
export class KerasGraph {
  readonly inputLayer: string;
  /** The model's (first) output layer. */
  readonly outputLayer: string;
  readonly #nodes = new Map<string, LayerNode>();
  /** Every node's name in an order where inputs come first. */
  readonly #order: string[] = [];
  readonly #inputShape: (number | null)[];

  constructor(topology: KerasModelTopology, weights: Map<string, Tensor>, options: KerasGraphOptions = {}) {
    const config = topology?.model_config?.config;
    if (!config || !Array.isArray(config.layers)) {
      throw new Error('Keras topology: expected model_config.config.layers (a functional model saved by Keras 2)');
    }
    const ends = (list: unknown[], what: string): string[] => list.map((entry) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw new Error(`Keras topology: unreadable ${what} entry ${JSON.stringify(entry)}`);
      return entry[0];
    });
    const inputs = ends(config.input_layers ?? [], 'input_layers');
    const outputs = ends(config.output_layers ?? [], 'output_layers');
    if (inputs.length !== 1) throw new Error(`Keras topology: ${inputs.length} input layers; only single-input models are supported`);
    if (outputs.length === 0) throw new Error('Keras topology: no output layers');
    this.inputLayer = inputs[0]!;
    this.outputLayer = outputs[0]!;

    const used = new Set<string>();
    const device = options.device ?? 'cpu';
    const weight = (layer: KerasLayer, key: string): Tensor => {
      const name = `${layer.name}/${key}`;
      const t = weights.get(name);
      if (t === undefined) {
        throw new Error(`Keras layer ${layer.name} (${layer.class_name}) needs the weight ${name}, which is missing ` +
          `(weights present: ${[...weights.keys()].slice(0, 4).join(', ')}, …)`);
      }
      used.add(name);
      return t.float();
    };
    // Every tensor the graph keeps, so that a layer failing half-built leaks nothing.
    const created: Tensor[] = [];
    const kept = (t: Tensor): Tensor => {
      const k = t.to({ device }).contiguous().keep();
      created.push(k);
      return k;
    };
    const shape = config.layers.find((l) => l?.name === this.inputLayer)?.config?.batch_input_shape;
    try {
      noGrad(() => tidy(() => {
        for (const layer of config.layers) {
          if (this.#nodes.has(layer.name)) throw new Error(`Keras topology: two layers are named ${layer.name}`);
          this.#nodes.set(layer.name, buildNode(layer, (key) => weight(layer, key), kept));
        }
      }));
      const unused = [...weights.keys()].filter((name) => !used.has(name));
      if (unused.length > 0) {
        throw new Error(`Keras topology: ${unused.length} weights are read by no layer (${unused.slice(0, 4).join(', ')}` +
          `${unused.length > 4 ? ', …' : ''}): weights from another model?`);
      }
      for (const name of [this.inputLayer, ...outputs]) {
        if (!this.#nodes.has(name)) throw new Error(`Keras topology: input/output layer ${name} is not among the layers`);
      }
      if (this.#nodes.get(this.inputLayer)!.type !== 'InputLayer') throw new Error(`Keras topology: input ${this.inputLayer} is not an InputLayer`);
      if (!Array.isArray(shape)) throw new Error(`Keras topology: InputLayer ${this.inputLayer} has no batch_input_shape`);
      this.#inputShape = shape as (number | null)[];
      this.#sortTopologically();
      if (options.foldBatchNorm ?? true) noGrad(() => tidy(() => this.#foldBatchNorms(new Set(outputs))));
    } catch (error) {
      for (const t of created) t.dispose();
      this.dispose();
      throw error;
    }
  }

  /** Layer names in evaluation order (folded convolutions left out). */
  get layerNames(): string[] {
    return this.#order.filter((name) => this.#nodes.get(name)!.foldedInto === undefined);
  }

  #sortTopologically(): void {
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, from: string): void => {
      const node = this.#nodes.get(name);
      if (node === undefined) throw new Error(`Keras topology: layer ${from} takes its input from ${name}, which does not exist`);
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') throw new Error(`Keras topology: a cycle runs through layer ${name}`);
      state.set(name, 'visiting');
      for (const input of node.inputs) visit(input, name);
      state.set(name, 'done');
      this.#order.push(name);
    };
    for (const name of this.#nodes.keys()) visit(name, name);
  }

  /**
   * conv → BN becomes one conv with weight W·s and bias (b − μ)·s + β, where
   * s = γ / √(σ² + ε) per output channel (computed in float64). Only when the
   * convolution has no activation of its own and the BN is its only reader.
   */
  #foldBatchNorms(outputs: Set<string>): void {
    const readers = new Map<string, number>();
    for (const node of this.#nodes.values()) for (const input of node.inputs) readers.set(input, (readers.get(input) ?? 0) + 1);
    for (const name of this.#order) {
      const node = this.#nodes.get(name)!;
      const conv = node.bn ? this.#nodes.get(node.inputs[0]!)! : undefined;
      if (!node.bn || node.bn.axis !== 1 || !conv?.conv || conv.activation !== null) continue;
      if (readers.get(conv.name) !== 1 || outputs.has(conv.name)) continue;
      const { mean, variance, gamma, beta, eps } = node.bn;
      const s64 = variance.to('float64').add(eps).rsqrt();
      const s = gamma ? s64.mul(gamma.to('float64')) : s64;
      const c = conv.conv;
      const bias = (c.bias ? c.bias.to('float64').sub(mean.to('float64')) : mean.to('float64').neg()).mul(s);
      const spec: ConvSpec = {
        ...c,
        weight: c.weight.to('float64').mul(s.view(-1, 1, 1, 1)).float().keep(),
        bias: (beta ? bias.add(beta.to('float64')) : bias).float().keep(),
      };
      for (const t of [...node.owned, ...conv.owned]) t.dispose();
      node.owned = [spec.weight, spec.bias!];
      conv.owned = [];
      node.conv = spec;
      node.bn = undefined;
      node.forward = convForward(spec);
      node.inputs = conv.inputs;
      conv.foldedInto = node.name;
    }
  }

  /**
   * Runs the model on `input` (`[B, C, H, W]` for an image model) and returns
   * the requested layers' outputs, in request order, computing only what they
   * need and freeing each intermediate value as soon as nothing else reads it.
   * Gradient mode is the caller's.
   */
  run(input: Tensor, requests: OutputRequest[]): Tensor[] {
    const wanted = requests.map((r) => (typeof r === 'string' ? { layer: r, beforeActivation: false } : r));
    for (const { layer } of wanted) {
      const node = this.#nodes.get(layer);
      if (node === undefined) throw new Error(`Keras graph: no layer named ${layer}`);
      if (node.foldedInto !== undefined) {
        throw new Error(`Keras graph: layer ${layer} was folded into ${node.foldedInto}, so its own output no longer exists; ` +
          'build the graph with { foldBatchNorm: false } to read it');
      }
    }
    this.#checkInput(input);
    return tidy(() => {
      const needed = new Set<string>();
      const need = (name: string): void => {
        if (needed.has(name)) return;
        needed.add(name);
        for (const i of this.#nodes.get(name)!.inputs) need(i);
      };
      for (const { layer } of wanted) need(layer);
      const pending = new Map<string, number>();
      for (const name of needed) for (const i of this.#nodes.get(name)!.inputs) pending.set(i, (pending.get(i) ?? 0) + 1);
      const keepOutput = new Set(wanted.filter((w) => !w.beforeActivation).map((w) => w.layer));
      const keepPre = new Set(wanted.filter((w) => w.beforeActivation).map((w) => w.layer));
      const values = new Map<string, Tensor>();
      const pre = new Map<string, Tensor>();
      for (const name of this.#order) {
        if (!needed.has(name)) continue;
        const node = this.#nodes.get(name)!;
        if (node.type === 'InputLayer') {
          values.set(name, input);
          continue;
        }
        const z = node.forward(node.inputs.map((i) => values.get(i)!));
        if (keepPre.has(name)) pre.set(name, z);
        const y = node.activation ? node.activation(z) : z;
        if (y !== z && !keepPre.has(name)) z.dispose();
        values.set(name, y);
        for (const i of node.inputs) {
          const left = pending.get(i)! - 1;
          pending.set(i, left);
          // The caller's input is theirs to free.
          if (left === 0 && !keepOutput.has(i) && !keepPre.has(i) && i !== this.inputLayer) values.get(i)!.dispose();
        }
      }
      return wanted.map((w) => (w.beforeActivation ? pre.get(w.layer)! : values.get(w.layer)!));
    });
  }

  #checkInput(input: Tensor): void {
    const [, ...nhwc] = this.#inputShape;
    const expected = nhwc.length === 3 ? [nhwc[2]!, nhwc[0]!, nhwc[1]!] : nhwc;
    const got = input.shape.slice(1);
    const fits = got.length === expected.length && expected.every((d, i) => d === null || d === got[i]);
    if (!fits) {
      throw new Error(`Keras graph: input [${input.shape}] does not fit ${this.inputLayer}, which expects ` +
        `[B, ${expected.map((d) => d ?? 'any').join(', ')}] (Keras: [${this.#inputShape.map((d) => d ?? 'None')}] channels-last)`);
    }
  }

  /** Frees the weights. */
  dispose(): void {
    for (const node of this.#nodes.values()) for (const t of node.owned) t.dispose();
  }
}
