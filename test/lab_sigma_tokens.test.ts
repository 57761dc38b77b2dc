// The generator lab's σ preview (POST /api/generator/preserved) redraws a
// post-training run's pregenerated σ-tokens (docs/method.md §6): for
// training image i and the run's seed and σ, the lab's ids and kept mask
// equal the cached ones. Pregeneration drew the images as one batch of 12,
// the lab draws image i alone, so this also checks that an image's σ-tokens
// do not depend on its batch (train/streams.ts, posttrain/image_draws.ts).
// Random-weight tokenizer and generator of the tiny presets' shapes: what is
// checked is which numbers are drawn, not whether they help.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { posttrainSchema } from '../src/posttrain/index.js';
import { postTrain, runPaths } from '../src/runs/index.js';
import { type RunningServer, startServer } from '../src/server/index.js';
import { loadSafetensors, tidy } from '../src/torch/index.js';
import { scratchDir } from './helpers/checkpoint.js';
import { presets, saveTinyGenerator, saveTinyTokenizer } from './helpers/runs.js';
import { api } from './helpers/serve.js';

const root = path.join(scratchDir(), 'runs');
const tok = saveTinyTokenizer(path.join(root, 'tok'), 1);
const gen = saveTinyGenerator(path.join(root, 'gen'), tok, 2);
const SEED = 5;
const SIGMA = 0.6;
const IMAGES = 12;
const config = resolveConfig(posttrainSchema, [loadConfigFile(presets.posttrain)], [
  `train.seed=${SEED}`, `sigma=${SIGMA}`, `tokens.pregenerate=${IMAGES}`, `data.limit=${IMAGES}`, 'train.steps=1', 'train.batchSize=4',
  'loss.gan.enabled=false', 'train.sampleEvery=100', 'train.checkpointEvery=100',
]);
const post = path.join(root, 'post');
const done = await postTrain(config, post, { tokenizer: tok, generator: gen, events: { log: () => {} } });
if (done.status !== 'done') throw new Error('the test post-training did not finish');

/** The run's cached σ-tokens: ids and kept masks, one row `[N]` per training image. */
const cached = tidy(() => {
  const t = loadSafetensors(runPaths(post).sigmaTokens).tensors;
  return { ids: t.ids!.to('int64').tolist() as number[][], kept: t.kept!.to('bool').tolist() as boolean[][] };
});

let server: RunningServer;
let base = '';
before(async () => {
  server = await startServer({ runs: root, port: 0 });
  base = server.url;
});
after(() => server.close());

const preview = async (index: number, seed = SEED) => {
  const { status, json } = await api(base, '/api/generator/preserved', { run: 'gen', image: { train: index }, sigma: SIGMA, seed });
  assert.equal(status, 200, JSON.stringify(json));
  return json as { ids: number[]; kept: boolean[] };
};

test('the lab\'s σ preview of training image i with the run\'s seed and σ is the run\'s pregenerated σ-tokens of image i', async () => {
  assert.equal(cached.ids.length, IMAGES);
  for (const index of [0, 5, IMAGES - 1]) {
    const shown = await preview(index);
    assert.deepEqual(shown.kept, cached.kept[index], `image ${index}: the kept mask`);
    assert.deepEqual(shown.ids, cached.ids[index], `image ${index}: the σ-tokens`);
  }
  // Not a comparison of constants: the rows differ, about σ of the positions
  // keep the ground truth, and another seed draws other tokens.
  assert.notDeepEqual(cached.ids[0], cached.ids[1], 'two images, two token rows');
  const keptFraction = cached.kept.flat().filter(Boolean).length / cached.kept.flat().length;
  assert.ok(keptFraction > 0.4 && keptFraction < 0.8, `kept fraction ${keptFraction} near σ = ${SIGMA}`);
  const other = await preview(0, SEED + 1);
  assert.notDeepEqual(other.kept, cached.kept[0], 'another seed, other coins');
  assert.notDeepEqual(other.ids, cached.ids[0], 'another seed, other draws');
});
