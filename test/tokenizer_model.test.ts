// The tokenizer model: encode → quantize → decode, ids round trip, and a
// few optimisation steps (reconstruction + VQ losses, perturbation on) that
// lower the loss.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW } from '../src/optim/index.js';
import { F, RandomStream, type Tensor, liveTensors, manualSeed, noGrad, randn, tidy } from '../src/torch/index.js';
import { Tokenizer, type TokenizerOptions } from '../src/tokenizer/index.js';

const cnn: TokenizerOptions = {
  architecture: 'cnn', codebookSize: 64, codeDim: 8,
  cnn: { imageChannels: 1, zChannels: 8, baseChannels: 8, channelMultipliers: [1, 2], resBlocks: 1, normGroups: 4 },
};
const vit: TokenizerOptions = {
  architecture: 'vit', codebookSize: 64, codeDim: 8,
  vit: { imageSize: 8, patchSize: 4, imageChannels: 3, width: 16, depth: 1, heads: 2, numLatentTokens: 6, codeDim: 8 },
};

/** Smooth images in [−1, 1]: low-frequency noise, upsampled. */
const images = (b: number, c: number, size: number): Tensor =>
  F.interpolate(randn([b, c, size / 4, size / 4]), { size: [size, size], mode: 'bilinear' }).tanh();

test('shapes: CNN ids form the latent grid, ViT ids the latent tokens; decodeIds renders ids', () => tidy(() => {
  manualSeed(0);
  const t1 = new Tokenizer(cnn);
  const x = images(2, 1, 16);
  const r = t1.forward(x);
  assert.deepEqual(r.image.shape, [2, 1, 16, 16]);
  assert.deepEqual(r.quantized.idsGrid.shape, [2, 8, 8]);
  const fromIds = t1.decodeIds(r.quantized.idsGrid);
  assert.ok(fromIds.sub(r.image).abs().max().item() < 1e-4, 'decoding the ids gives the reconstruction');
  assert.equal(t1.lastDecoderWeight(), t1.stateDict()['decoder.conv_out.weight']);
  const t2 = new Tokenizer(vit);
  const r2 = t2.forward(images(2, 3, 8));
  assert.deepEqual(r2.quantized.ids.shape, [2, 6]);
  assert.deepEqual(t2.decodeIds(r2.quantized.ids).shape, [2, 3, 8, 8]);
  assert.throws(() => new Tokenizer({ ...vit, codeDim: 4 } as TokenizerOptions), /vit.codeDim 8 must equal codeDim 4/);
  t1.dispose();
  t2.dispose();
}));

test('a few dozen steps with perturbation on lower the reconstruction loss', () => {
  const live = liveTensors();
  manualSeed(1);
  const model = new Tokenizer(cnn);
  const optimizer = new AdamW(model.parameters(), { lr: 2e-3, betas: [0.9, 0.95], weightDecay: 0 });
  const data = tidy(() => images(32, 1, 16));
  const stream = new RandomStream(3);
  const evalLoss = () => noGrad(() => tidy(() => F.mseLoss(model.forward(data).image, data).item()));
  const before = evalLoss();
  for (let step = 0; step < 40; step++) {
    tidy(() => {
      const batch = data.narrow(0, (step * 8) % 32, 8);
      const r = model.forward(batch, { alpha: 0.5, beta: 0.5, delta: 4, stream });
      optimizer.zeroGrad();
      F.mseLoss(r.image, batch).add(r.quantized.loss).backward();
      optimizer.step();
    });
  }
  const after = evalLoss();
  assert.ok(after < before * 0.7, `reconstruction MSE ${before.toFixed(4)} → ${after.toFixed(4)}`);
  optimizer.dispose();
  model.dispose();
  data.dispose();
  assert.equal(liveTensors(), live);
});
