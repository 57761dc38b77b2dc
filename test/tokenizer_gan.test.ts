// The tokenizer's GAN parts (docs/method.md §4): the PatchGAN discriminator and
// DiffAugment against PyTorch references (test/gan_ref.py) on the same
// weights and seeds (values and input gradients, rtol 1e-4, atol 1e-5), the
// hinge and LeCam losses against their closed forms, the adaptive weight
// against torch.autograd.grad, and DiffAugment's geometry on one-hot images.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RandomStream, type Tensor, liveTensors, manualSeed, noGrad, ones, rand, randn, tensor, tidy, zeros } from '../src/torch/index.js';
import {
  type DiffAugPolicy, LeCam, PatchDiscriminator, type PatchDiscriminatorOptions, adaptiveGanGradients, diffAugment, hingeDiscriminatorLoss,
  hingeGeneratorLoss, randCutout, randTranslation,
} from '../src/tokenizer/index.js';
import { type Case, runParity } from './helpers/oracle.js';

const tolerance = { rtol: 1e-4, atol: 1e-5 };

/** Asserts that `fn` leaves no tensor behind. */
function noLeak(fn: () => void): void {
  const before = liveTensors();
  fn();
  assert.equal(liveTensors(), before, 'tensors leaked');
}

/** A discriminator case: our module's state dict is loaded, strictly by name, into gan_ref's twin. */
function discriminatorCase(name: string, options: PatchDiscriminatorOptions, train: boolean): Case {
  manualSeed(11);
  const d = new PatchDiscriminator({ baseChannels: 4, layers: 2, ...options });
  // A few training steps first, so running statistics and power-iteration vectors are not their initial values
  // (random u, v give a σ near 0 and a badly conditioned network).
  noGrad(() => tidy(() => { for (let i = 0; i < 3; i++) d.forward(randn([2, 3, 16, 16])); }));
  d.train(train);
  const entries = Object.entries(d.stateDict());
  const names = entries.map(([n]) => n);
  const weights = entries.map(([, t]) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.to('float64').toTypedArray() as Float64Array, Number) }));
  const load = names.map((n, i) => `'${n}': x${i + 1}`).join(', ');
  return {
    name,
    inputs: [{ shape: [2, 3, 24, 24], requiresGrad: true }, ...weights],
    ts: ([x, ...ws]) => {
      d.loadStateDict(Object.fromEntries(names.map((n, i) => [n, ws[i]!])));
      const out = d.forward(x!);
      // Running statistics (batch norm) or power-iteration vectors (spectral norm) after the step.
      const buffers = Object.entries(d.stateDict()).filter(([n]) => /running_|weight_[uv]$/.test(n)).map(([, t]) => t.clone());
      return [out, ...buffers];
    },
    setup: `from gan_ref import *\nm = NLayerDiscriminator(3, 4, 2, spectral_norm=${options.spectralNorm ? 'True' : 'False'})\n`
      + `m.load_state_dict({${load}}, strict=True)\nm.train(${train ? 'True' : 'False'})\n`
      + `def run(x):\n    out = m(x)\n    return (out, *[t.clone() for n, t in m.state_dict().items() if 'running_' in n or n.endswith(('weight_u', 'weight_v'))])`,
    py: 'run(x0)',
  };
}

test('PatchDiscriminator maps [B, C, H, W] to [B, 1, H/2^n − 2, W/2^n − 2] with taming names', () => noLeak(() => tidy(() => {
  const d = new PatchDiscriminator({ baseChannels: 8, layers: 3 });
  assert.deepEqual(d.forward(rand([2, 3, 32, 48])).shape, [2, 1, 2, 4]);
  assert.deepEqual(Object.keys(d.stateDict()).filter((n) => n.endsWith('weight')),
    ['main.0.weight', 'main.2.weight', 'main.3.weight', 'main.5.weight', 'main.6.weight', 'main.8.weight', 'main.9.weight', 'main.11.weight']);
  const sn = new PatchDiscriminator({ baseChannels: 8, layers: 2, spectralNorm: true, inChannels: 1 });
  assert.deepEqual(sn.forward(rand([1, 1, 16, 16])).shape, [1, 1, 2, 2]);
  assert.ok(!Object.keys(sn.stateDict()).some((n) => n.includes('running')), 'no batch norm under spectral norm');
  d.dispose();
  sn.dispose();
})));

const discriminatorCases = (): Case[] => [
  discriminatorCase('PatchDiscriminator, batch norm, eval', {}, false),
  discriminatorCase('PatchDiscriminator, batch norm, training (batch statistics, running stats)', {}, true),
  discriminatorCase('PatchDiscriminator, spectral norm, training (one power iteration)', { spectralNorm: true }, true),
  discriminatorCase('PatchDiscriminator, spectral norm, eval', { spectralNorm: true }, false),
];

/** DiffAugment against DiffAugment_pytorch.py, draw for draw from the same seeded global generator. */
const diffAugCases = (): Case[] => (['color', 'translation', 'cutout', 'color,translation,cutout'] as const).map((policy, i) => ({
  name: `DiffAugment ${policy}`,
  seed: 100 + i,
  inputs: [{ shape: [5, 3, 16, 12], requiresGrad: true }],
  ts: ([x]) => diffAugment(x!, { policy: policy.split(',') as DiffAugPolicy[] }),
  setup: 'from gan_ref import *',
  py: `DiffAugment(x0, '${policy}')`,
}));

/**
 * The adaptive weight and the decoder's gradient at its output, on a two-layer
 * "decoder", against taming's form: torch.autograd.grad norms at the last
 * layer, then the gradient of rec + w·gan. `scale`: fp16's loss scale, which
 * must not change either.
 */
const adaptiveWeightCases = (): Case[] => [[1, 1], [30, 1], [30, 4096]].map(([ganScale, scale]) => ({
  name: `adaptive weight and output gradient, GAN loss ×${ganScale}, scale ${scale}`,
  grad: false,
  // z [4, 3], hidden weight [5, 3], last-layer weight [2, 5], target [4, 2], discriminator weight [1, 2]
  inputs: [{ shape: [4, 3] }, { shape: [5, 3] }, { shape: [2, 5], requiresGrad: true }, { shape: [4, 2] }, { shape: [1, 2] }],
  ts: ([z, w1, w2, target, dw]) => {
    const out = z!.matmul(w1!.T).relu().matmul(w2!.T);
    const rec = out.sub(target!).square().mean();
    const gan = hingeGeneratorLoss(out.matmul(dw!.T)).mul(ganScale!);
    const { weight, outputGradient } = adaptiveGanGradients(out, rec, gan, w2!, { ganWeight: 0.5, scale });
    assert.equal(weight.requiresGrad, false, 'detached');
    assert.equal(outputGradient.requiresGrad, false, 'detached');
    return [weight, outputGradient];
  },
  setup: `def taming(z, w1, w2, target, dw, s):
    out = torch.relu(z @ w1.T) @ w2.T
    rec = F.mse_loss(out, target)
    gan = -(out @ dw.T).mean() * s
    g_rec = torch.autograd.grad(rec, w2, retain_graph=True)[0]
    g_gan = torch.autograd.grad(gan, w2, retain_graph=True)[0]
    w = torch.clamp(torch.norm(g_rec) / (torch.norm(g_gan) + 1e-4), 0.0, 1e4).detach() * 0.5
    return w, torch.autograd.grad(rec + w * gan, out)[0]`,
  py: `taming(x0, x1, x2, x3, x4, ${ganScale})`,
}));

// One oracle run for all three (starting PyTorch costs seconds).
test('discriminator, DiffAugment and adaptive weight match their PyTorch references (values and input gradients)', async (t) => {
  for (const outcome of runParity([...discriminatorCases(), ...diffAugCases(), ...adaptiveWeightCases()], tolerance)) {
    await t.test(outcome.name, () => assert.deepEqual(outcome.problems, []));
  }
});

test('DiffAugment is deterministic for a fixed Generator, keeps shapes, and passes gradients', () => noLeak(() => tidy(() => {
  const x = rand([4, 3, 16, 16]).requiresGrad_();
  const a = diffAugment(x, { stream: new RandomStream(5) });
  const b = diffAugment(x, { stream: new RandomStream(5) });
  const c = diffAugment(x, { stream: new RandomStream(6) });
  assert.deepEqual(a.shape, x.shape);
  assert.equal(a.sub(b).abs().max().item(), 0);
  assert.ok(c.sub(a).abs().max().item() > 0, 'another seed gives other draws');
  a.sum().backward();
  assert.ok(x.grad!.abs().sum().item() > 0, 'gradient reaches the input');
  assert.throws(() => diffAugment(x, { policy: ['flip' as 'color'] }), /unknown policy 'flip'/);
})));

/** The (row, column) of each sample's single nonzero pixel in `[B, 1, H, W]`, or null when it was shifted out. */
function hot(x: Tensor): ([number, number] | null)[] {
  const [B, , H, W] = x.shape as [number, number, number, number];
  const v = x.toTypedArray() as Float32Array;
  return Array.from({ length: B }, (_, b) => {
    const found: [number, number][] = [];
    for (let i = 0; i < H * W; i++) if (v[b * H * W + i] !== 0) found.push([Math.floor(i / W), i % W]);
    assert.ok(found.length <= 1, `sample ${b}: ${found.length} nonzero pixels after a translation`);
    return found[0] ?? null;
  });
}

test('translation moves a one-hot pixel by the sampled shift, within ±ratio·side, covering the range', () => noLeak(() => tidy(() => {
  const B = 200;
  const H = 16;
  const W = 24;
  const image = zeros([B, 1, H, W]);
  image.slice(2, 8, 9).slice(3, 12, 13).fill_(1);
  const shifted = hot(randTranslation(image, 1 / 8, new RandomStream(3)));
  const dys = new Set<number>();
  const dxs = new Set<number>();
  for (const p of shifted) {
    assert.ok(p !== null, 'a centre pixel stays inside');
    const [dy, dx] = [p[0] - 8, p[1] - 12];
    assert.ok(Math.abs(dy) <= 2 && Math.abs(dx) <= 3, `shift (${dy}, ${dx}) beyond (2, 3)`);
    dys.add(dy);
    dxs.add(dx);
  }
  assert.equal(dys.size, 5, 'vertical shifts −2..2 all occur');
  assert.equal(dxs.size, 7, 'horizontal shifts −3..3 all occur');
  // A pixel at the border leaves with zero fill when shifted outward, never wraps around.
  const corner = zeros([B, 1, H, W]);
  corner.slice(2, 0, 1).slice(3, 0, 1).fill_(1);
  const moved = hot(randTranslation(corner, 1 / 8, new RandomStream(4)));
  assert.ok(moved.some((p) => p === null), 'some draws shift the corner out');
  for (const p of moved) if (p) assert.ok(p[0] <= 2 && p[1] <= 3, `corner pixel landed at ${p}`);
})));

test('cutout zeroes one axis-aligned square of side ratio·side, clipped at the borders', () => noLeak(() => tidy(() => {
  const B = 100;
  const H = 16;
  const out = randCutout(ones([B, 2, H, H]), 1 / 2, new RandomStream(9));
  const v = out.toTypedArray() as Float32Array;
  let full = 0;
  for (let b = 0; b < B; b++) {
    const rows = new Set<number>();
    const cols = new Set<number>();
    let count = 0;
    for (let i = 0; i < H * H; i++) {
      const [ch0, ch1] = [v[b * 2 * H * H + i], v[(b * 2 + 1) * H * H + i]];
      assert.equal(ch0, ch1, 'the same mask on every channel');
      if (ch0 === 0) {
        count++;
        rows.add(Math.floor(i / H));
        cols.add(i % H);
      }
    }
    assert.equal(count, rows.size * cols.size, `sample ${b}: the zeros form a rectangle`);
    assert.ok(rows.size <= 8 && cols.size <= 8 && count > 0, `sample ${b}: ${rows.size}×${cols.size}`);
    for (const [set, size] of [[rows, rows.size], [cols, cols.size]] as const) {
      const lo = Math.min(...set);
      assert.equal(Math.max(...set) - lo + 1, size, 'contiguous');
      if (size < 8) assert.ok(lo === 0 || lo + size === H, 'a smaller side is clipped by a border');
    }
    if (count === 64) full++;
  }
  assert.ok(full > 10, `full 8×8 squares occur (${full} of ${B})`);
})));

test('hinge losses match their closed forms', () => noLeak(() => tidy(() => {
  const real = tensor([1.5, 0.2, -0.4, 0.9]);
  const fake = tensor([-2, -0.5, 0.3, 0]);
  // relu(1 − real) = [0, 0.8, 1.4, 0.1] → 0.575; relu(1 + fake) = [0, 0.5, 1.3, 1] → 0.7
  assert.ok(Math.abs(hingeDiscriminatorLoss(real, fake).item() - (0.575 + 0.7)) < 1e-6);
  assert.ok(Math.abs(hingeGeneratorLoss(fake).item() - 0.55) < 1e-6);
})));

test('LeCam updates its EMA anchors, then penalises as Tseng et al.; its state round-trips', () => noLeak(() => tidy(() => {
  const lecam = new LeCam({ decay: 0.9 });
  const real = tensor([1, 3]);
  const fake = tensor([-1, 1]);
  // Anchors after one update from 0: emaReal = 0.1·2 = 0.2, emaFake = 0.1·0 = 0.
  // mean(relu(real − 0)²) = (1 + 9)/2 = 5; mean(relu(0.2 − fake)²) = (1.44 + 0)/2 = 0.72.
  assert.ok(Math.abs(lecam.forward(real, fake).item() - 5.72) < 1e-5);
  assert.ok(Math.abs(lecam.emaReal - 0.2) < 1e-12 && Math.abs(lecam.emaFake) < 1e-12);
  lecam.forward(real, fake);
  assert.ok(Math.abs(lecam.emaReal - (0.9 * 0.2 + 0.2)) < 1e-12);
  const restored = new LeCam({ decay: 0.9 });
  restored.loadStateDict(JSON.parse(JSON.stringify(lecam.stateDict())));
  assert.equal(restored.emaReal, lecam.emaReal);
  assert.equal(restored.penalty(real, fake).item(), lecam.penalty(real, fake).item());
  assert.throws(() => new LeCam().loadStateDict(lecam.stateDict()), /LeCam\.loadStateDict: .*decay/);
  assert.throws(() => restored.loadStateDict({ tensors: {}, meta: { kind: 'AdamW' } }), /saved by AdamW/);
  // Gradients flow to the logits.
  const r = tensor([0.5, 2]).requiresGrad_();
  lecam.forward(r, fake).backward();
  assert.ok(r.grad!.abs().sum().item() > 0);
})));

test('the adaptive weight is clamped to 1e4 when the GAN gradient vanishes, and keeps the graph below the output', () => noLeak(() => tidy(() => {
  const w = ones([3, 3]).requiresGrad_();
  const out = w.mul(2);
  const rec = out.sum();
  const gan = out.mul(0).sum();
  const { weight, outputGradient } = adaptiveGanGradients(out, rec, gan, w);
  assert.equal(weight.item(), 1e4);
  assert.equal(outputGradient.sum().item(), 9);
  out.backward(outputGradient);  // the graph from the output down was retained
  assert.equal(w.grad!.sum().item(), 18);
})));
