// Device placement without a GPU: every model's forward pass, both
// perturbations, the discriminators and every sampling path run inside
// auditImplicitDevices, where a tensor factory that names no device throws.
// On a CUDA run such a tensor would be created on the CPU and the next op
// mixing it with the model's tensors would fail. (libtorch 1.13's `meta`
// device, the other way to test this, lacks convolution and index_select.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { classifierNetwork, DatasetClassifier } from '../src/features/classifier.js';
import { ArGenerator, GeneratorTrainer, type GeneratorOptions, generatorSchema, loadGenerator, sampleTokens } from '../src/generator/index.js';
import type { Module } from '../src/nn/index.js';
import { PostTrainer, posttrainSchema, preservedSampling } from '../src/posttrain/index.js';
import { evaluateTokenizer } from '../src/eval/index.js';
import { loadGeneratorPair } from '../src/runs/index.js';
import { FeatureDiscriminator, PatchDiscriminator, Tokenizer, TokenizerTrainer, type TokenizerOptions, readImageSpec, tokenizerSchema } from '../src/tokenizer/index.js';
import { ProcessGroup, RandomStream, auditImplicitDevices, cuda, manualSeed, noGrad, rand, randint, randn, tidy } from '../src/torch/index.js';
import { backendFor, deviceContext, resolveDevice } from '../src/train/index.js';
import { preservedImage, sampleClass } from '../src/server/generator_lab.js';
import { neighboursOfCode, reconstructImage } from '../src/server/tokenizer_lab.js';
import { serveCommand } from '../src/cli/serve.js';
import { encodeCommand, reconstructCommand } from '../src/cli/tokenize.js';
import { trainClassifierCommand } from '../src/cli/train_classifier.js';
import { writePng } from '../src/data/index.js';
import { scratchDir } from './helpers/checkpoint.js';
import { oneThreadEnv } from './helpers/one_thread.js';
import { presets, saveTinyGenerator, saveTinyTokenizer } from './helpers/runs.js';

/** Builds a model (its initialisation may use the default device) and checks it reports one device. */
function built<M extends Module>(build: () => M): M {
  manualSeed(0);
  const model = build();
  assert.deepEqual([...model.devices()], ['cpu']);
  assert.equal(model.device, 'cpu');
  return model;
}

/** Runs `fn` under the audit, with gradients off. */
const audited = <T>(fn: () => T): T => auditImplicitDevices(() => noGrad(fn));

const cnnBlocks = { imageChannels: 3, zChannels: 8, baseChannels: 8, channelMultipliers: [1, 2], resBlocks: 1, normGroups: 4, attention: true, attentionLevels: [1] };
const tokenizers: [string, TokenizerOptions, number][] = [
  ['cnn', { architecture: 'cnn', codebookSize: 32, codeDim: 8, cnn: cnnBlocks }, 16],
  ['cnn, euclidean, [0, 1] pixels', { architecture: 'cnn', codebookSize: 32, codeDim: 8, distance: 'euclidean', pixelRange: [0, 1], cnn: cnnBlocks }, 16],
  ['llamagen', { architecture: 'llamagen', codebookSize: 32, codeDim: 8, llamagen: cnnBlocks }, 16],
  ['vit', { architecture: 'vit', codebookSize: 32, codeDim: 8, vit: { imageSize: 8, patchSize: 4, imageChannels: 3, width: 16, depth: 1, heads: 2, numLatentTokens: 6, codeDim: 8 } }, 8],
  ['robustok-vit', { architecture: 'robustok-vit', codebookSize: 32, codeDim: 8, 'robustok-vit': { imageSize: 8, patchSize: 4, imageChannels: 3, width: 16, depth: 1, heads: 2, numLatentTokens: 4 } }, 8],
];

for (const [name, options, size] of tokenizers) {
  test(`tokenizer (${name}): encode, both perturbations, decode, decodeIds name their device`, () => tidy(() => noGrad(() => {
    const model = built(() => new Tokenizer(options));
    const images = randn([4, 3, size, size]);
    const stream = new RandomStream(1);
    for (const select of ['first', 'random'] as const) {
      audited(() => model.forward(images, { alpha: 0.5, beta: 0.5, delta: 4, select, stream }));
    }
    const q = model.encode(images);
    audited(() => model.perturb(q, { kind: 'gaussian', scale: 0.5, beta: 1, stream }));
    audited(() => model.candidates(q, 3));
    audited(() => model.decodeIds(q.ids));
    model.train();
    audited(() => model.forward(images, { alpha: 1, beta: 1, delta: 2, stream }));
    model.dispose();
  })));
}

test('discriminators: PatchGAN (batch norm and spectral norm) and the feature discriminator name their device', () => tidy(() => noGrad(() => {
  const images = randn([2, 3, 32, 32]);
  for (const spectralNorm of [false, true]) {
    const d = built(() => new PatchDiscriminator({ inChannels: 3, baseChannels: 8, layers: 2, spectralNorm }));
    audited(() => d.forward(images));
    d.eval();
    audited(() => d.forward(images));
    d.dispose();
  }
  const classifier = built(() => new DatasetClassifier({ channels: 3, size: 16, numClasses: 4, widths: [4, 8], featureSize: 8 }));
  const network = classifierNetwork(classifier, { options: classifier.options, dataset: 'audit', testAccuracy: 0, epochs: 0 });
  const d = built(() => new FeatureDiscriminator(network, 8));
  audited(() => d.forward(images));
  d.dispose();
  network.dispose();
})));

test('dataset classifier: features and logits (training and eval mode) name their device', () => tidy(() => noGrad(() => {
  const model = built(() => new DatasetClassifier({ channels: 1, size: 16, numClasses: 4, widths: [4, 8], featureSize: 8 }));
  const x = randn([3, 1, 16, 16]);
  audited(() => model.forward(x));
  model.eval();
  audited(() => model.features(x));
  model.dispose();
})));

test('a tokenizer evaluation (features, PSNR/SSIM, pFID levels and curves, FID noise, codebook statistics) names every device', () => {
  const model = built(() => new Tokenizer(tokenizers[0]![1]));
  const classifier = built(() => new DatasetClassifier({ channels: 3, size: 16, numClasses: 4, widths: [4, 8], featureSize: 8 }));
  const network = classifierNetwork(classifier, { options: classifier.options, dataset: 'audit', testAccuracy: 0, epochs: 0 });
  const count = 12;
  const split = { images: Uint8Array.from({ length: count * 3 * 16 * 16 }, (_, i) => (i * 37) % 256), labels: new Int32Array(count), count, channels: 3 as const, size: 16, skipped: [] };
  const result = auditImplicitDevices(() => evaluateTokenizer(model, split, {
    network, batchSize: 5, alpha: 1, delta: 4, curve: [0.5, 1], deltaCurve: [2], keep: 2, noise: { replicates: 3, seed: 0 },
  }));
  assert.ok(Number.isFinite(result.rfid) && Number.isFinite(result.noise!.pfid.standardError), 'the audited evaluation measured');
  for (const t of Object.values(result.samples!)) t.dispose();
  network.dispose();
  model.dispose();
});

const generators: [string, GeneratorOptions][] = [
  ['learned positions', { vocabSize: 24, numClasses: 5, grid: [3, 4], width: 32, depth: 2, heads: 2, mlpRatio: 2, dropout: 0.1, qkNorm: false, tieWeights: false, positions: 'learned', ropeBase: 10000 }],
  ['2-D RoPE, QK-norm, tied head', { vocabSize: 24, numClasses: 5, grid: [3, 4], width: 32, depth: 2, heads: 2, mlpRatio: 2, dropout: 0.1, qkNorm: true, tieWeights: true, positions: 'rope2d', ropeBase: 10000 }],
];

for (const [name, options] of generators) {
  test(`AR generator (${name}): teacher forcing, KV-cache and guided sampling, σ-preserving sampling name their device`, () => tidy(() => noGrad(() => {
    const model = built(() => new ArGenerator(options));
    const labels = randint(0, options.numClasses, [3], { dtype: 'int64' });
    const ids = randint(0, options.vocabSize, [3, 12], { dtype: 'int64' });
    model.train();
    audited(() => model.forward(ids, labels));
    model.eval();
    const stream = new RandomStream(3);
    const greedy = { temperature: 0, topK: 0, topP: 1, schedule: 'constant' as const, power: 1 };
    const drawn = { temperature: 1, topK: 8, topP: 0.9, schedule: 'cosine' as const, power: 1, stream };
    for (const choice of [greedy, drawn]) {
      for (const kvCache of [true, false]) {
        for (const cfg of [1, 2]) audited(() => sampleTokens(model, labels, { ...choice, cfg, kvCache }));
      }
      const coinStream = new RandomStream(2);
      for (const sigma of [0, 0.5, 1]) {
        audited(() => preservedSampling(model, ids, labels, { ...choice, cfg: 1.5, sigma, coinStream }));
      }
    }
    model.dispose();
  })));
}

// ---- one training step of each trainer, everything it creates audited ----

const work = scratchDir();

test('a tokenizer training step (perturbation, GAN with LeCam and DiffAugment, EMA, clip) names every device; the trainer reports one', () => {
  const config = resolveConfig(tokenizerSchema, [loadConfigFile(presets.tokenizer)], ['train.steps=2', 'train.batchSize=2', 'loss.gan.enabled=true', 'loss.gan.start=0', 'perturbation.enabled=true']);
  const trainer = new TokenizerTrainer(config);
  assert.equal(trainer.device, 'cpu');
  assert.deepEqual([...trainer.model.devices(), ...trainer.discriminator!.devices()], ['cpu', 'cpu']);
  const images = tidy(() => randn([2, 1, 32, 32], { stream: new RandomStream(4) }).tanh());
  for (let i = 0; i < 2; i++) auditImplicitDevices(() => trainer.step(images));
  auditImplicitDevices(() => tidy(() => trainer.reconstruct(images)));
  images.dispose();
  trainer.dispose();
});

test('a tokenizer training step through loss networks (perceptual features, feature discriminator) names every device; a network on another device is refused', () => {
  const classifier = built(() => new DatasetClassifier({ channels: 1, size: 16, numClasses: 4, widths: [4, 8], featureSize: 8 }));
  const network = classifierNetwork(classifier, { options: classifier.options, dataset: 'audit', testAccuracy: 0, epochs: 0 }, 'cpu');
  const sets = ['train.steps=2', 'train.batchSize=2', 'loss.gan.enabled=true', 'loss.gan.start=0', 'loss.gan.network=classifier:audit',
    'loss.perceptual.kind=features', 'loss.perceptual.network=classifier:audit'];
  const config = resolveConfig(tokenizerSchema, [loadConfigFile(presets.tokenizer)], sets);
  const trainer = new TokenizerTrainer(config, { featureNetwork: network, discriminatorNetwork: network });
  const images = tidy(() => randn([2, 1, 32, 32], { stream: new RandomStream(5) }).tanh());
  const metrics = auditImplicitDevices(() => trainer.step(images));
  assert.ok(Number.isFinite(metrics.perceptual!), 'the perceptual term was computed');
  images.dispose();
  trainer.dispose();
  const elsewhere = { ...network, device: 'cuda:0' };
  assert.throws(() => new TokenizerTrainer(config, { featureNetwork: elsewhere, discriminatorNetwork: network }),
    /loss.perceptual.network classifier:audit was loaded on cuda:0, but the run trains on cpu/);
  network.dispose();
});

test('a generator training step (variants, class dropout) and a post-training step (σ-tokens drawn and given) name every device', async () => {
  const genConfig = resolveConfig(generatorSchema, [loadConfigFile(presets.generator)], ['train.steps=2', 'train.batchSize=4']);
  const ids = randint(0, 16, [16, 2, 4], { dtype: 'int16', stream: new RandomStream(5) }).keep();
  const labels = randint(0, 3, [16], { stream: new RandomStream(6) }).keep();
  const tokens = { ids, labels, grid: [2, 2] as [number, number], vocabSize: 16, fingerprint: 'random', dispose: () => { ids.dispose(); labels.dispose(); } };
  const trainer = new GeneratorTrainer(genConfig, tokens, 3);
  assert.equal(trainer.device, 'cpu');
  for (let i = 0; i < 2; i++) auditImplicitDevices(() => trainer.step());
  trainer.dispose();
  tokens.dispose();

  const tok = saveTinyTokenizer(path.join(work, 'tok'), 0);
  const gen = saveTinyGenerator(path.join(work, 'gen'), tok, 1);
  const config = resolveConfig(posttrainSchema, [loadConfigFile(presets.posttrain)], ['train.batchSize=2', 'loss.gan.start=0']);
  const pair = loadGeneratorPair(gen, tok);
  const post = new PostTrainer(config, pair.tokenizer, pair.model, pair.info.sampling, { channels: 1 });
  assert.equal(post.device, 'cpu');
  const images = tidy(() => rand([2, 1, 32, 32], { stream: new RandomStream(7) }).mul(2).sub(1));
  const classes = randint(0, 10, [2], { stream: new RandomStream(8) });
  auditImplicitDevices(() => post.step(images, classes));
  const drawn = post.sigmaTokens(images, classes);
  auditImplicitDevices(() => post.step(images, classes, { ids: drawn.ids, kept: drawn.kept, changed: drawn.ids.ne(drawn.truth) }));
  auditImplicitDevices(() => post.decodeWithEma(drawn.ids)).dispose();
  for (const t of [images, classes, drawn.ids, drawn.kept, drawn.truth]) t.dispose();
  post.dispose();
  pair.dispose();
});

test('the labs of serve --device (reconstruct, neighbours, sample, σ-preserving sample) name every device', () => {
  const tok = saveTinyTokenizer(path.join(work, 'lab-tok'), 0);
  const gen = saveTinyGenerator(path.join(work, 'lab-gen'), tok, 1);
  const tokenizer = Tokenizer.load(tok);
  const { model } = loadGenerator(gen);
  const spec = readImageSpec(tok);
  const image = { data: Uint8Array.from({ length: 40 * 40 }, (_, i) => (i * 13) % 256), height: 40, width: 40, channels: 1 as const };
  const sampling = { cfg: 2, schedule: 'linear' as const, power: 1, temperature: 1, topK: 0, topP: 1 };
  const lab = auditImplicitDevices(() => reconstructImage(tokenizer, spec, { dir: tok, image, alpha: 0.5, delta: 3, seed: 1, overrides: [{ index: 0, rank: 2 }] }));
  assert.equal(lab.perturbedIds.length, lab.ids.length);
  auditImplicitDevices(() => neighboursOfCode(tokenizer, 2, 3));
  auditImplicitDevices(() => sampleClass(model, [tokenizer], { dir: gen, decoders: [tok], classId: 1, sampling, seed: 2 }));
  auditImplicitDevices(() => preservedImage(model, [tokenizer], spec, { dir: gen, decoders: [tok], image, index: 3, classId: 1, sigma: 0.5, sampling, seed: 4 }));
  model.dispose();
  tokenizer.dispose();
});

test('train.device: cpu, auto (cpu without a GPU) and a missing GPU refused with what to do', () => {
  assert.equal(resolveDevice('cpu'), 'cpu');
  if (!cuda.isAvailable()) {
    assert.equal(resolveDevice('auto'), 'cpu');
    assert.throws(() => resolveDevice('cuda'), /sees no CUDA device.*CUDA libtorch.*--device cpu/);
  }
  assert.throws(() => resolveDevice('gpu'), /expected cpu, cuda, cuda:N or auto/);
  assert.throws(() => resolveConfig(tokenizerSchema, [], ['train.device=gpu0']), /train.device: "gpu0" is not cpu \| cuda \| cuda:N \| auto/);
});

test('under launch each rank takes the GPU of its local rank and talks over NCCL; a GPU named by number, or too few GPUs, refused', () => {
  const single = { gpus: 2, localRank: null };
  assert.equal(resolveDevice('cuda', single), 'cuda:0');
  assert.equal(resolveDevice('cuda:1', single), 'cuda:1');
  assert.equal(resolveDevice('auto', single), 'cuda:0');
  assert.throws(() => resolveDevice('cuda:2', single), /sees 2 CUDA devices \(cuda:0…cuda:1\)/);
  assert.equal(resolveDevice('cuda', { gpus: 2, localRank: 1 }), 'cuda:1');
  assert.equal(resolveDevice('auto', { gpus: 2, localRank: 1 }), 'cuda:1');
  assert.equal(resolveDevice('auto', { gpus: 0, localRank: 1 }), 'cpu');
  assert.equal(resolveDevice('cpu', { gpus: 2, localRank: 1 }), 'cpu');
  assert.throws(() => resolveDevice('cuda:0', { gpus: 2, localRank: 1 }), /under robustok launch: each rank takes the GPU of its local rank; pass --device cuda/);
  assert.throws(() => resolveDevice('cuda', { gpus: 2, localRank: 2 }), /LOCAL_RANK=2 has no GPU of its own.*at most 2 ranks/);
  assert.throws(() => resolveDevice('cuda', { gpus: 0, localRank: 0 }), /sees no CUDA device/);
  // The process's own context: LOCAL_RANK from torchrun's variables.
  assert.deepEqual(deviceContext({ WORLD_SIZE: '2', RANK: '1', LOCAL_RANK: '1' }).localRank, 1);
  assert.equal(deviceContext({}).localRank, null);
  assert.equal(backendFor('cpu'), 'gloo');
  assert.equal(backendFor('cuda:1'), 'nccl');
  assert.throws(() => ProcessGroup.init({ rank: 0, worldSize: 1, backend: 'nccl', rendezvous: { kind: 'file', path: '/nonexistent' } }), /nccl process group reduces GPU tensors/);
});

test('--device cuda without a GPU: reconstruct/encode/decode, train-classifier and serve refuse it before writing or listening', { skip: cuda.isAvailable() ? 'this machine has a CUDA device' : false }, async () => {
  const tok = saveTinyTokenizer(path.join(work, 'cli-tok'), 0);
  const image = path.join(work, 'one.png');
  await writePng({ data: new Uint8Array(32 * 32), height: 32, width: 32, channels: 1 }, image);
  const noGpu = /this libtorch sees no CUDA device .*--device cpu/;
  const out = path.join(work, 'cli-out');
  await assert.rejects(reconstructCommand(['--tokenizer', tok, '--input', image, '--out', out, '--device', 'cuda']), noGpu);
  await assert.rejects(encodeCommand(['--tokenizer', tok, '--input', image, '--out', `${out}.json`, '--device', 'cuda:1']), noGpu);
  assert.ok(!existsSync(out) && !existsSync(`${out}.json`), 'nothing written');
  await assert.rejects(trainClassifierCommand(['--data', 'fashion-mnist', '--out', path.join(work, 'clf.safetensors'), '--device', 'cuda']), noGpu);
  await assert.rejects(serveCommand(['--runs', work, '--port', '0', '--device', 'cuda']), noGpu);
});

test('npm run smoke:gpu on a machine without CUDA: one JSON line and exit 2, saying there is no CUDA device', { skip: cuda.isAvailable() ? 'this machine has a CUDA device: the script would run its checks' : false }, () => {
  const r = spawnSync(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'smoke-gpu.mjs')], { encoding: 'utf8', env: oneThreadEnv });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no CUDA device/);
  assert.deepEqual(Object.keys(JSON.parse(r.stdout.trim())), ['ok', 'reason']);
});
