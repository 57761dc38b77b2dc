// bench/posttrain compares like with like: from the same weights, the PyTorch
// twin (bench/posttrain_torch.py) draws the same σ-tokens as robustok's
// --pregenerate and logs the same numbers as PostTrainer.step for the small
// recipe. σ-tokens: each image's uniforms come from streams seeded by its
// index in the split (image_draws.ts), so the twin's keep coins must equal
// robustok's exactly, every kept position must hold the ground-truth id (the
// encoder's, equal on both sides), and the generator's guided draws, by the
// inverse CDF of the same uniforms, must pick the same tokens elsewhere. The
// step: losses, adaptive weight, discriminator and LeCam terms (from a
// continued discriminator's anchors), rate and kept/changed shares, at the
// first step (relative 1e-4) and at the second, which also checks the AdamW,
// clipping, discriminator and spectral-norm updates in between. Random
// weights of the presets' shapes (no training needed); DiffAugment off (the
// twin draws it from PyTorch's global stream, robustok from its trainer's);
// no warm-up, so the first update moves the weights.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { posttrainConfig, startPosttrainTwin, writeTwinInit } from '../bench/posttrain.js';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { ArGenerator, generatorOptions, generatorSchema, samplingOf } from '../src/generator/index.js';
import { PostTrainer, type PosttrainStepMetrics, imageDraws } from '../src/posttrain/index.js';
import { Tokenizer, modelOptions, tokenizerSchema } from '../src/tokenizer/index.js';
import { type Tensor, getNumThreads, manualSeed, noGrad, rand, tensor, tidy } from '../src/torch/index.js';
import { compareStepMetrics } from './helpers/step_metrics.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RTOL = 1e-4;
const ATOL = 1e-6;  // for terms near zero (the decoder's hinge term crosses 0)
/** Rows of the images in their split: each image's σ-token streams are seeded by its row. */
const INDICES = [3, 17, 40, 1234];
/** Share of the σ-tokens that must agree (all of them but a rare draw whose uniform sits on a float-rounding boundary of the CDF). */
const AGREE = 0.99;

const compare = (label: string, ours: PosttrainStepMetrics, theirs: PosttrainStepMetrics): void => compareStepMetrics(label, ours, theirs, RTOL, ATOL);

test('the PyTorch twin of bench:posttrain draws the same σ-tokens and computes the same post-training steps as robustok (small recipe)', async () => {
  const tokenizerConfig = resolveConfig(tokenizerSchema, [loadConfigFile(path.join(root, 'configs', 'tokenizer', 'small.yaml'))]);
  const generatorConfig = resolveConfig(generatorSchema, [loadConfigFile(path.join(root, 'configs', 'generator', 'small.yaml'))]);
  const config = posttrainConfig(null, ['loss.gan.diffaug=[]', 'optim.warmupFraction=0']);
  manualSeed(0);
  const tokenizer = new Tokenizer(modelOptions(tokenizerConfig));
  const generator = new ArGenerator(generatorOptions(generatorConfig, { vocabSize: tokenizerConfig.model.codebookSize, numClasses: 10, grid: [8, 8] }));
  // Logits of a trained generator's scale (a random head gives nearly uniform ones, where guidance hardly moves a draw).
  noGrad(() => generator.head!.weight.mul_(20));
  const t = new PostTrainer(config, tokenizer, generator, samplingOf(generatorConfig.sample), { channels: tokenizerConfig.data.channels });
  // A continued discriminator's LeCam anchors (post_train.ts's discriminator=continue loads them with it).
  Object.assign(t.objective.lecam!, { emaReal: 0.3, emaFake: -0.2 });
  const B = INDICES.length;
  const images = tidy(() => rand([B, tokenizerConfig.data.channels, 32, 32]).mul(2).sub(1).keep());
  const labels = tensor([7, 0, 3, 9], { dtype: 'int64' });
  const draws = imageDraws(config.train.seed, INDICES, generator.length);
  const drawn = t.sigmaTokens(images, labels, draws);
  const rows = { ids: drawn.ids, kept: drawn.kept, changed: tidy(() => drawn.ids.ne(drawn.truth).keep()) };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-twin-'));
  const file = path.join(dir, 'init.pt');
  writeTwinInit(file, t, { tokenizerConfig, step: { images, rows }, draw: { images, labels, indices: INDICES } });
  const twin = await startPosttrainTwin(getNumThreads(), file);
  rmSync(dir, { recursive: true, force: true });
  try {
    const theirs = JSON.parse(twin.ask('tokens')) as { truth: number[][]; ids: number[][]; kept: boolean[][] };
    const ours = { truth: drawn.truth.tolist() as number[][], ids: drawn.ids.tolist() as number[][], kept: drawn.kept.tolist() as boolean[][] };
    assert.deepEqual(theirs.truth, ours.truth, 'the ground-truth ids (encoder and nearest code)');
    assert.deepEqual(theirs.kept, ours.kept, "the keep coins: each image's own pregenCoins stream, compared with σ");
    const keptShare = ours.kept.flat().filter(Boolean).length / ours.kept.flat().length;
    assert.ok(Math.abs(keptShare - config.sigma) < 0.1, `about σ = ${config.sigma} of the positions are kept (${keptShare})`);
    for (const [side, s] of [['robustok', ours], ['PyTorch', theirs]] as const) {
      const wrong = s.kept.flatMap((row, b) => row.flatMap((k, n) => (k && s.ids[b]![n] !== s.truth[b]![n] ? [`(${b}, ${n})`] : [])));
      assert.deepEqual(wrong, [], `${side}: kept positions hold the ground truth`);
    }
    const ids = ours.ids.flat();
    const same = theirs.ids.flat().filter((id, i) => id === ids[i]).length;
    assert.ok(same >= AGREE * ids.length, `the generator's draws agree: ${same} of ${ids.length} σ-tokens are the same`);
    assert.ok(ids.some((id, i) => id !== ours.truth.flat()[i]), 'some tokens were replaced by draws');

    for (let step = 1; step <= 2; step++) {
      const a = t.step(images, labels, rows);
      const b = JSON.parse(twin.ask('metrics')) as PosttrainStepMetrics;
      compare(`step ${step}`, a, b);
    }
  } finally {
    twin.close();
    for (const x of [images, labels, draws.uniforms, draws.coinUniforms, drawn.ids, drawn.kept, drawn.truth, rows.changed] as Tensor[]) x.dispose();
    t.dispose();
    generator.dispose();
    tokenizer.dispose();
  }
});
