// The Keras-graph interpreter and the nsfwjs feature networks against
// TensorFlow.js itself (@tensorflow/tfjs 4.22, pure-JS CPU backend, a test-only
// dependency): the same topology and weights run through tf.loadLayersModel.
// - A small synthetic model covers what the nsfwjs graphs do not: TF's
//   asymmetric 'same' padding (stride 2 on an even side), 'same' pooling with
//   the padding left out of averages, depth multiplier 2, dilation, ReLU6,
//   Flatten of a 2×2 map (NHWC order), two outputs; with and without folded
//   BatchNorm. Float32 through ~15 layers: rtol 1e-4 + atol 1e-5.
// - Both nsfwjs networks on 2 deterministic non-square images (batch 2 here,
//   one at a time in TF.js as nsfwjs's infer() runs them, with its own
//   preprocessing: /255, resizeBilinear alignCorners = true). TF.js
//   dequantises the shipped uint8 weights itself, so this also checks our
//   decoder. Tolerances below; the measured errors are printed as diagnostics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { KerasGraph, type KerasLayer, type KerasModelTopology, samePadding } from '../src/features/keras_graph.js';
import { loadNsfwjs, nsfwjsClasses, type NsfwjsVariant, readNsfwjsFiles } from '../src/features/nsfwjs.js';
import { decodeTfjsWeights, type TfjsWeightSpec } from '../src/features/tfjs_weights.js';
import { type Tensor, liveTensors, noGrad, tensor, tidy } from '../src/torch/index.js';
import { mulberry32 as random } from './helpers/oracle.js';
import { tfjsModel, useTfjsCpu } from './helpers/tfjs_nsfwjs.js';

await useTfjsCpu();

/** Largest |a − b|, largest |b|, and the elementwise check |a − b| ≤ atol + rtol·|b|. */
function compare(ours: ArrayLike<number>, ref: ArrayLike<number>, rtol: number, atol: number, what: string): { err: number; scale: number } {
  assert.equal(ours.length, ref.length, `${what}: ${ours.length} values vs ${ref.length}`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i]! - ref[i]!);
    assert.ok(Number.isFinite(ours[i]!) && d <= atol + rtol * Math.abs(ref[i]!), `${what}[${i}]: ${ours[i]} vs TF.js ${ref[i]}`);
    err = Math.max(err, d);
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return { err, scale };
}

const values = (t: Tensor): Float32Array => t.contiguous().toTypedArray() as Float32Array;
/** A TF.js NHWC value as NCHW, flat. */
const nchw = (t: tf.Tensor): Float32Array => tf.tidy(() => (t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t).dataSync() as Float32Array);

// ---- a synthetic model ----------------------------------------------------------------------

function layer(name: string, className: string, config: Record<string, unknown>, inputs: string[]): KerasLayer {
  return { name, class_name: className, config: { name, trainable: false, ...config }, inbound_nodes: inputs.length ? [inputs.map((i) => [i, 0, 0, {}])] : [] };
}
const conv = (filters: number, kernel: number[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  filters, kernel_size: kernel, strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1],
  activation: 'linear', use_bias: false, ...extra,
});
const pool = (size: number, strides: number, padding: string): Record<string, unknown> => ({
  pool_size: [size, size], strides: [strides, strides], padding, data_format: 'channels_last',
});

function topologyOf(layers: KerasLayer[], outputs: string[]): KerasModelTopology {
  return { model_config: { class_name: 'Model', config: { layers, input_layers: [[layers[0]!.name, 0, 0]], output_layers: outputs.map((o) => [o, 0, 0]) } } };
}

// Input [B, 10, 9, 3] NHWC: stride 2 'same' pads H (10) asymmetrically (0, 1) and W (9) symmetrically.
const synthetic = topologyOf([
  layer('input', 'InputLayer', { batch_input_shape: [null, 10, 9, 3], dtype: 'float32' }, []),
  layer('c1', 'Conv2D', conv(4, [3, 3], { strides: [2, 2], use_bias: true, activation: 'relu' }), ['input']),
  layer('bn1', 'BatchNormalization', { axis: 3, epsilon: 0.001, center: true, scale: true }, ['c1']),
  layer('c2', 'Conv2D', conv(6, [1, 3]), ['input']),
  layer('bn2', 'BatchNormalization', { axis: -1, epsilon: 0.01, center: true, scale: false }, ['c2']),
  layer('r2', 'ReLU', { max_value: 6, negative_slope: 0, threshold: 0 }, ['bn2']),
  layer('dw', 'DepthwiseConv2D', { kernel_size: [3, 3], strides: [2, 2], padding: 'same', data_format: 'channels_last',
    dilation_rate: [1, 1], activation: 'linear', use_bias: true, depth_multiplier: 2 }, ['r2']),
  layer('bn3', 'BatchNormalization', { axis: 3, epsilon: 0.001, center: false, scale: true }, ['dw']),
  layer('mp', 'MaxPooling2D', pool(3, 2, 'same'), ['bn2']),  // negative values: the padding must not win
  layer('ap', 'AveragePooling2D', pool(3, 2, 'same'), ['r2']),
  layer('ap1', 'AveragePooling2D', pool(3, 1, 'same'), ['bn1']),
  layer('cat', 'Concatenate', { axis: -1 }, ['bn3', 'mp', 'ap', 'ap1']),
  layer('zp', 'ZeroPadding2D', { padding: [[1, 0], [0, 2]], data_format: 'channels_last' }, ['cat']),
  layer('c3', 'Conv2D', conv(8, [2, 2], { padding: 'valid', dilation_rate: [2, 2], use_bias: true }), ['zp']),
  layer('c4', 'Conv2D', conv(8, [1, 1], { activation: 'sigmoid', use_bias: true }), ['c3']),
  layer('add', 'Add', {}, ['c3', 'c4']),
  layer('act', 'Activation', { activation: 'relu' }, ['add']),
  layer('vmp', 'MaxPooling2D', pool(2, 2, 'valid'), ['act']),
  layer('fl', 'Flatten', { data_format: 'channels_last' }, ['vmp']),
  layer('drop', 'Dropout', { rate: 0.5 }, ['fl']),
  layer('probs', 'Dense', { units: 5, activation: 'softmax', use_bias: true }, ['drop']),
  layer('gap', 'GlobalAveragePooling2D', { data_format: 'channels_last' }, ['act']),
], ['probs', 'gap']);

const syntheticSpecs: [string, number[]][] = [
  ['c1/kernel', [3, 3, 3, 4]], ['c1/bias', [4]],
  ['bn1/gamma', [4]], ['bn1/beta', [4]], ['bn1/moving_mean', [4]], ['bn1/moving_variance', [4]],
  ['c2/kernel', [1, 3, 3, 6]], ['bn2/beta', [6]], ['bn2/moving_mean', [6]], ['bn2/moving_variance', [6]],
  ['dw/depthwise_kernel', [3, 3, 6, 2]], ['dw/bias', [12]],
  ['bn3/gamma', [12]], ['bn3/moving_mean', [12]], ['bn3/moving_variance', [12]],
  ['c3/kernel', [2, 2, 28, 8]], ['c3/bias', [8]], ['c4/kernel', [1, 1, 8, 8]], ['c4/bias', [8]],
  ['probs/kernel', [32, 5]], ['probs/bias', [5]],
];

function syntheticWeights(): { specs: TfjsWeightSpec[]; data: Uint8Array } {
  const next = random(11);
  const chunks = syntheticSpecs.map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const variance = name.endsWith('moving_variance');
    return Float32Array.from({ length: n }, () => (variance ? 0.2 + next() : (next() - 0.5) * (name.includes('kernel') ? 1.2 : 0.6)));
  });
  const data = new Uint8Array(chunks.reduce((a, c) => a + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    data.set(new Uint8Array(c.buffer), offset);
    offset += c.byteLength;
  }
  return { specs: syntheticSpecs.map(([name, shape]) => ({ name, shape, dtype: 'float32' })), data };
}

test('KerasGraph matches TF.js on a synthetic model (same padding, pools, depthwise, folding, Flatten order)', async (t) => {
  assert.deepEqual(samePadding(10, 3, 2), [0, 1]);  // TF puts the odd pixel after
  assert.deepEqual(samePadding(9, 3, 2), [1, 1]);
  const { specs, data } = syntheticWeights();
  const reference = await tfjsModel(synthetic, specs, data);
  const watched = ['bn1', 'r2', 'cat', 'fl'];
  const probe = tf.model({ inputs: reference.inputs, outputs: [...watched, 'probs', 'gap'].map((n) => reference.getLayer(n).output as tf.SymbolicTensor) });
  const next = random(5);
  const input = Float32Array.from({ length: 2 * 10 * 9 * 3 }, () => next() * 10 - 5);  // wide enough for ReLU6 to cap
  const refs = tf.tidy(() => (probe.predict(tf.tensor4d(input, [2, 10, 9, 3])) as tf.Tensor[]).map(nchw));
  const before = liveTensors();
  const weights = decodeTfjsWeights(specs, data, 'synthetic');
  for (const fold of [false, true]) {
    const graph = new KerasGraph(synthetic, weights, { foldBatchNorm: fold });
    tidy(() => {
      const x = tensor(input, { shape: [2, 10, 9, 3] }).permute(0, 3, 1, 2);
      // Folding removes c2's and dw's outputs, not bn1's (c1 has its own activation).
      const names = [...watched, 'probs', 'gap'];
      const outs = noGrad(() => graph.run(x, names));
      let worst = 0;
      outs.forEach((o, i) => {
        const { err, scale } = compare(values(o), refs[i]!, 1e-4, 1e-5, `${names[i]} (fold ${fold})`);
        worst = Math.max(worst, err / Math.max(scale, 1e-12));
      });
      const [logits] = graph.run(x, [{ layer: 'probs', beforeActivation: true }]);
      compare(values(logits!.softmax(1)), refs[4]!, 1e-4, 1e-6, 'softmax of the pre-activation output');
      t.diagnostic(`synthetic, fold ${fold}: max |error| / max |TF.js| = ${worst.toExponential(2)}`);
      if (fold) {
        assert.throws(() => graph.run(x, ['c2']), /c2 was folded into bn2.*foldBatchNorm: false/);
        assert.deepEqual(graph.layerNames.filter((n) => n === 'c2' || n === 'dw' || n === 'c1'), ['c1']);
      } else {
        assert.equal(graph.run(x, ['c2'])[0]!.size(1), 6);
      }
    });
    graph.dispose();
  }
  for (const w of weights.values()) w.dispose();
  assert.equal(liveTensors(), before, 'live tensors after building, running and disposing');
  tf.dispose(refs as unknown as tf.Tensor[]);
  reference.dispose();
});

test('KerasGraph: unknown layer types, missing or stray weights and bad inputs are named; ReLU by hand', () => {
  const before = liveTensors();
  const { specs, data } = syntheticWeights();
  const weights = decodeTfjsWeights(specs, data, 'synthetic');
  const layers = synthetic.model_config.config.layers;
  const swapped = topologyOf(layers.map((l) => (l.name === 'c3' ? { ...l, class_name: 'Conv3D' } : l)), ['probs']);
  assert.throws(() => new KerasGraph(swapped, weights), /layer c3 \(Conv3D\): layer type Conv3D is not supported \(supported: InputLayer, Conv2D/);
  const missing = new Map(weights);
  missing.delete('c1/bias');
  assert.throws(() => new KerasGraph(synthetic, missing), /c1 \(Conv2D\) needs the weight c1\/bias, which is missing/);
  const stray = new Map(weights).set('nowhere/kernel', weights.get('c1/bias')!);
  assert.throws(() => new KerasGraph(synthetic, stray), /1 weights are read by no layer \(nowhere\/kernel\)/);
  const badActivation = topologyOf(layers.map((l) => (l.name === 'c4' ? { ...l, config: { ...l.config, activation: 'gelu_magic' } } : l)), ['probs']);
  assert.throws(() => new KerasGraph(badActivation, weights), /c4 \(Conv2D\): activation 'gelu_magic' is not supported/);
  const graph = new KerasGraph(synthetic, weights);
  tidy(() => {
    assert.throws(() => graph.run(tensor(new Float32Array(2 * 3 * 10 * 10), { shape: [2, 3, 10, 10] }), ['probs']),
      /input \[2,3,10,10\] does not fit input, which expects \[B, 3, 10, 9\]/);
    assert.throws(() => graph.run(tensor(new Float32Array(3 * 10 * 9), { shape: [1, 3, 10, 9] }), ['nope']), /no layer named nope/);
  });
  graph.dispose();
  for (const w of weights.values()) w.dispose();
  assert.throws(() => decodeTfjsWeights(specs, data.subarray(0, 100), 'short'), /short: the weight data ends at byte 100/);
  // ReLU's threshold and negative slope (TF.js's ReLU has neither), by hand on a [B, D] model:
  // slope·(x − threshold) below the threshold, x above it, capped at max_value.
  const relu = new KerasGraph(topologyOf([
    layer('x', 'InputLayer', { batch_input_shape: [null, 4] }, []),
    layer('r', 'ReLU', { max_value: 2, negative_slope: 0.5, threshold: 1 }, ['x']),
  ], ['r']), new Map());
  tidy(() => assert.deepEqual(relu.run(tensor([[-1, 0.5, 1.5, 3]]), ['r'])[0]!.tolist(), [[-1, -0.25, 1.5, 2]]));
  relu.dispose();
  assert.equal(liveTensors(), before);
});

// ---- nsfwjs ---------------------------------------------------------------------------------

/** Two smooth, different, non-square RGB images in [−1, 1]: `[2, 3, H, W]`, flat. */
function images(h: number, w: number): Float32Array {
  const next = random(3);
  const out = new Float32Array(2 * 3 * h * w);
  let i = 0;
  for (let b = 0; b < 2; b++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const wave = Math.sin((x * (b + 1) + y * (c + 1)) / 5 + c) * Math.cos(y / (4 + 3 * b));
          out[i++] = Math.max(-1, Math.min(1, 0.8 * wave + 0.2 * (next() * 2 - 1)));
        }
      }
    }
  }
  return out;
}

// Tolerances: measured errors on the development machine were ≈2e-6 of the
// largest feature, ≈3e-7 of the logits' range and ≈1e-7 on probabilities
// (see the diagnostics); the bounds leave ~50× for other BLAS/oneDNN kernels:
// features |err| ≤ 1e-4·|f| + 2e-4·max|f| (many pooled ReLU features are
// near 0), logits 2e-4 of their range, probabilities 2e-5 absolute.
for (const [variant, h, w] of [['mobilenet', 40, 48], ['inception', 48, 40]] as [NsfwjsVariant, number, number][]) {
  test(`nsfwjs-${variant} matches TF.js running nsfwjs's model (features, logits, probabilities)`, async (t) => {
    const files = readNsfwjsFiles(variant);
    const reference = await tfjsModel(files.topology, files.weightSpecs, files.weightData);
    const net = loadNsfwjs(variant);
    assert.equal(net.name, `nsfwjs-${variant}`);
    assert.deepEqual([net.inputSize, net.featureSize, net.numClasses, nsfwjsClasses.length],
      variant === 'inception' ? [299, 2048, 5, 5] : [224, 1280, 5, 5]);
    const dense3 = reference.getLayer(reference.outputs[0]!.sourceLayer.name);
    const probe = tf.model({ inputs: reference.inputs, outputs: [net.featureLayer, 'dropout_3', dense3.name].map((n) => reference.getLayer(n).output as tf.SymbolicTensor) });
    const pixels = images(h, w);
    // nsfwjs's infer(): pixels 0–255 / 255, resizeBilinear(alignCorners = true), one image at a time.
    const refs = [0, 1].map((b) => tf.tidy(() => {
      const img = tf.tensor4d(pixels.subarray(b * 3 * h * w, (b + 1) * 3 * h * w), [1, 3, h, w]).transpose([0, 2, 3, 1]).add(1).mul(127.5);
      const input = tf.image.resizeBilinear(img.div(255) as tf.Tensor4D, [net.inputSize, net.inputSize], true);
      const [features, hidden, probs] = probe.predict(input) as tf.Tensor[];
      // Logits: the last Dense layer without its softmax, in float64 from TF.js's own weights.
      const [kernel, bias] = dense3.getWeights().map((v) => v.dataSync());
      const hid = Array.from(hidden!.dataSync() as Float32Array);
      const logits = Array.from({ length: 5 }, (_, k) => hid.reduce((s, v, j) => s + v * kernel![j * 5 + k]!, bias![k]!));
      return { features: Array.from(features!.dataSync()), logits, probs: Array.from(probs!.dataSync()) };
    }));
    const before = liveTensors();
    tidy(() => {
      const x = tensor(pixels, { shape: [2, 3, h, w] });
      const features = net.features(x);
      const logits = net.logits(x);
      assert.deepEqual([features.shape, logits.shape, features.requiresGrad], [[2, net.featureSize], [2, 5], false]);
      const f = values(features);
      const l = values(logits);
      const p = values(logits.softmax(1));
      for (const b of [0, 1]) {
        const ref = refs[b]!;
        const scale = Math.max(...ref.features.map(Math.abs));
        const fe = compare(f.subarray(b * net.featureSize, (b + 1) * net.featureSize), ref.features, 1e-4, 2e-4 * scale, `features ${b}`);
        const range = Math.max(...ref.logits) - Math.min(...ref.logits);
        const le = compare(l.subarray(b * 5, b * 5 + 5), ref.logits, 0, 2e-4 * range, `logits ${b}`);
        const pe = compare(p.subarray(b * 5, b * 5 + 5), ref.probs, 0, 2e-5, `probabilities ${b}`);
        t.diagnostic(`image ${b}: features max |err| ${fe.err.toExponential(2)} (max |feature| ${scale.toFixed(3)}, ` +
          `${(fe.err / scale).toExponential(2)} of it); logits max |err| ${le.err.toExponential(2)} (range ${range.toFixed(2)}); ` +
          `probabilities max |err| ${pe.err.toExponential(2)}; TF.js top class ${nsfwjsClasses[ref.probs.indexOf(Math.max(...ref.probs))]}`);
      }
    });
    assert.equal(liveTensors(), before, 'live tensors after features and logits');
    net.dispose();
    reference.dispose();
  });
}

test('nsfwjs-mobilenet: grey = repeated RGB, 224 × 224 skips resizing, gradients reach the input, bad inputs are named', () => {
  const net = loadNsfwjs('mobilenet');
  const before = liveTensors();
  tidy(() => {
    const pixels = images(30, 20).subarray(0, 2 * 30 * 20);
    const grey = tensor(pixels, { shape: [2, 1, 30, 20] });
    compare(values(net.features(grey)), values(net.features(grey.expand(-1, 3, -1, -1))), 1e-5, 1e-6, 'grey vs its RGB copy');
    // At the network's own size nsfwjs does not resample: features are the graph on (x + 1) / 2 exactly.
    const exact = tensor(images(224, 224), { shape: [2, 3, 224, 224] }).narrow(0, 0, 1);
    const direct = noGrad(() => net.graph.run(exact.add(1).mul(0.5), [net.featureLayer])[0]!);
    compare(values(net.features(exact)), values(direct), 0, 0, 'features at 224 × 224');
    // The weights are frozen; a perceptual loss still gets gradients for its input.
    const x = tensor(pixels, { shape: [2, 1, 30, 20] }).clone().requiresGrad_(true);
    const f = net.features(x);
    assert.ok(f.requiresGrad, 'features of an input that requires grad carry a graph');
    f.sum().backward();
    assert.ok(x.grad!.abs().sum().item() > 0, 'input gradient');
    assert.throws(() => net.features(tensor(new Float32Array(2 * 4 * 9), { shape: [2, 4, 3, 3] })), /feature networks take images \[B, 1 or 3, H, W\], got \[2,4,3,3\]/);
  });
  assert.equal(liveTensors(), before);
  assert.throws(() => loadNsfwjs('vgg' as NsfwjsVariant), /unknown variant 'vgg' \(known: inception, mobilenet\)/);
  net.dispose();
});
