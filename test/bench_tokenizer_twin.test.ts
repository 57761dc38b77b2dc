// bench/tokenizer compares like with like: from the same weights and images,
// the PyTorch twin (bench/tokenizer_torch.py) logs the same numbers as
// robustok's TokenizerTrainer.step for the small preset with the GAN on —
// losses, adaptive weight, discriminator and LeCam terms, codebook usage —
// at the first step (relative 1e-4) and at the second, which also checks that
// both applied the same AdamW, clipping, discriminator and spectral-norm
// updates in between. DiffAugment is off here (the twin draws it from
// PyTorch's global stream, robustok from its trainer's); perturbation is
// checked at β = 0 (all of its work, no token changed) and at β = 0.5, where
// both draw from a stream seeded alike, so the same tokens are redrawn.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type TokenizerTwin, ganStartStep, noiseImages, smallPreset, startTokenizerTwin, writeTwinInit } from '../bench/tokenizer.js';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { type StepMetrics, TokenizerTrainer, tokenizerSchema } from '../src/tokenizer/index.js';
import { type Tensor, getNumThreads, manualSeed } from '../src/torch/index.js';
import { compareStepMetrics } from './helpers/step_metrics.js';

const RTOL = 1e-4;
const ATOL = 1e-6;  // for terms near zero (the generator's hinge loss crosses 0)
const BATCH = 4;

interface Side {
  trainer: TokenizerTrainer;
  images: Tensor;
  twin: TokenizerTwin;
}

/** The small preset, GAN on from the step it starts at, no warm-up (so the first update moves the weights), no DiffAugment. */
async function start(dir: string, beta: number): Promise<Side> {
  const config = resolveConfig(tokenizerSchema, [loadConfigFile(smallPreset)],
    [`perturbation.beta=${beta}`, 'loss.gan.diffaug=[]', 'optim.warmupFraction=0']);
  manualSeed(0);
  const trainer = new TokenizerTrainer(config);
  trainer.stepCount = ganStartStep(config);
  const images = noiseImages(config, BATCH);
  const file = path.join(dir, `init-${beta}.pt`);
  writeTwinInit(file, trainer, images);
  return { trainer, images, twin: await startTokenizerTwin(getNumThreads(), file) };
}

const compare = (label: string, ours: StepMetrics, theirs: StepMetrics): void => compareStepMetrics(label, ours, theirs, RTOL, ATOL);

test('the PyTorch twin of the benchmark computes the same training steps as robustok (small preset, GAN on)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-twin-'));
  // Both twins import torch at once, while this process sets up the other side.
  const sides = await Promise.all([start(dir, 0), start(dir, 0.5)]);
  rmSync(dir, { recursive: true, force: true });
  try {
    const firsts: StepMetrics[] = [];
    for (const [i, { trainer, images, twin }] of sides.entries()) {
      const beta = i === 0 ? 0 : 0.5;
      for (let step = 1; step <= 2; step++) {
        const ours = trainer.step(images);
        const theirs = JSON.parse(twin.ask('metrics')) as StepMetrics;
        if (step === 1) {
          assert.ok(Math.abs(ours.loss - theirs.loss) <= RTOL * Math.abs(theirs.loss),
            `β = ${beta}: first-step generator loss robustok ${ours.loss} vs PyTorch ${theirs.loss}`);
          firsts.push(ours);
        }
        compare(`β = ${beta}, step ${step}`, ours, theirs);
      }
    }
    // Same weights and images: only the redrawn tokens can tell the two first steps apart.
    assert.notEqual(firsts[0]!.reconstruction, firsts[1]!.reconstruction, 'β = 0.5 redraws tokens');
    assert.ok((firsts[0]!.alpha ?? 0) > 0 && (firsts[0]!.delta ?? 0) > 1, 'perturbation is on (annealed α, δ at the GAN start)');
  } finally {
    for (const { trainer, images, twin } of sides) {
      twin.close();
      images.dispose();
      trainer.dispose();
    }
  }
});
