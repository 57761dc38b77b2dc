// The discriminator on a frozen pretrained network's features (loss.gan.network,
// docs/method.md §4): only its heads train and are saved, the backbone stays
// bit for bit, gradients reach the images for the decoder's GAN term; it runs
// in post-training, and the network inside it may not score the result.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { resolveConfig } from '../src/config/index.js';
import { loadFeatureNetwork } from '../src/features/index.js';
import { DecoderObjective, FeatureDiscriminator, hingeGeneratorLoss, tokenizerSchema } from '../src/tokenizer/index.js';
import { RandomStream, liveTensors, rand, tidy } from '../src/torch/index.js';
import { scratchDir } from './helpers/checkpoint.js';
import { presets, robustok, saveRandomClassifier, saveTinyGenerator, saveTinyTokenizer } from './helpers/runs.js';

const work = scratchDir();
const clf = saveRandomClassifier(path.join(work, 'classifier.safetensors'));

test('FeatureDiscriminator: heads train and are its only state, the backbone is frozen, the decoder\'s GAN term has gradients at the images', async () => {
  const live = liveTensors();
  const network = await loadFeatureNetwork('classifier:fashion-mnist', { weights: clf });
  const loss = resolveConfig(tokenizerSchema, [], ['loss.gan.enabled=true', 'loss.gan.network=classifier:fashion-mnist', 'loss.gan.headWidth=8']).loss;
  const objective = new DecoderObjective(loss, { channels: 1, nonFinite: 'stop', discriminatorNetwork: network });
  assert.ok(objective.discriminator instanceof FeatureDiscriminator);
  assert.deepEqual(objective.discriminator.namedParameters().map(([n]) => n).sort(),
    ['head.0.bias', 'head.0.weight_orig', 'head.2.bias', 'head.2.weight_orig'], 'only the heads are parameters (and so in a checkpoint)');
  const heads = tidy(() => objective.discriminator!.parameters().map((p) => p.clone().keep()));
  tidy(() => {
    const real = rand([4, 1, 32, 32], { stream: new RandomStream(1) }).mul(2).sub(1);
    const fake = rand([4, 1, 32, 32], { stream: new RandomStream(2) }).mul(2).sub(1).requiresGrad_(true);
    const before = network.features(real).clone();
    const { adversarial } = objective.decoderLoss(fake, real, { gan: { lastLayerWeight: fake, stream: new RandomStream(3) } });
    assert.ok(Number.isFinite(adversarial!.adversarial.item()));
    hingeGeneratorLoss(objective.discriminator!.forward(objective.augment(fake, new RandomStream(3)))).backward();
    assert.ok(fake.grad !== null && fake.grad.abs().sum().item() > 0, 'the GAN term reaches the images through the frozen backbone');
    objective.discriminatorStep(real, fake, new RandomStream(4), 1);
    assert.ok(objective.discriminator!.parameters().some((p, i) => !p.eq(heads[i]!).all().item()), 'a discriminator step moves the heads');
    assert.ok(network.features(real).eq(before).all().item(), 'the backbone is untouched');
  });
  assert.throws(() => new DecoderObjective(loss, { channels: 1, nonFinite: 'stop' }), /loss\.gan\.network is classifier:fashion-mnist, but no network was loaded/);
  for (const t of heads) t.dispose();
  objective.dispose();
  network.dispose();
  assert.equal(liveTensors(), live, 'nothing leaks');
});

test('post-train with loss.gan.network: runs, records the network in its config, and eval-generator then refuses to score it with that network', () => {
  const tok = saveTinyTokenizer(path.join(work, 'tok'), 0);
  const gen = saveTinyGenerator(path.join(work, 'gen'), tok, 1);
  const out = path.join(work, 'post');
  const run = robustok('post-train', '--tokenizer', tok, '--generator', gen, '--config', presets.posttrain, '--out', out, '--set', 'train.steps=2',
    '--set', 'loss.gan.network=classifier:fashion-mnist', '--set', `loss.gan.networkWeights=${clf}`, '--set', 'loss.gan.headWidth=8');
  assert.equal(run.status, 0, run.stderr);
  const scored = robustok('eval-generator', '--generator', gen, '--tokenizer', out, '--weights', clf, '--n', '20');
  assert.equal(scored.status, 1, scored.stderr);
  assert.match(scored.stderr, /--features classifier:fashion-mnist cannot score .*post: its training used classifier:fashion-mnist inside its loss \(loss\.gan\.network in /);
});
