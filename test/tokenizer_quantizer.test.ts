// The vector quantizer and latent perturbation (docs/method.md §1–2).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RandomStream, type Tensor, bernoulli, liveTensors, manualSeed, randint, randn, randperm, tidy, where, zeros } from '../src/torch/index.js';
import { VectorQuantizer, annealedPerturbation, gaussianLatentNoise, gaussianPerturbation, l2Normalize, latentPerturbation, perturbationCandidates } from '../src/tokenizer/index.js';
import { runParity } from './helpers/oracle.js';

const K = 32;
const D = 8;

function setup(seed: number, B = 16, N = 64) {
  manualSeed(seed);
  const vq = new VectorQuantizer({ codebookSize: K, codeDim: D });
  const latent = randn([B, N, D]).requiresGrad_();
  return { vq, latent };
}

const quantizerPy = `
def vq(z, c):
    z = z.clone().requires_grad_(True)
    c = c.clone().requires_grad_(True)
    zn, cn = F.normalize(z, dim=-1), F.normalize(c, dim=-1)
    q = cn[(zn @ cn.T).argmax(-1)]
    zq = zn + (q - zn).detach()
    loss = F.mse_loss(q, zn.detach()) + 0.25 * F.mse_loss(q.detach(), zn)
    (zq.sum() * 0.5 + loss).backward()
    return zq, loss, z.grad, c.grad
`;

test('quantizer matches a PyTorch version on the same weights (values and gradients)', async (t) => {
  const [outcome] = runParity([{
    name: 'VQ: straight-through output, loss, gradients to the latent and the codebook',
    inputs: [{ shape: [2, 10, D] }, { shape: [K, D] }],
    ts: ([z, codebook]) => {
      const vq = new VectorQuantizer({ codebookSize: K, codeDim: D });
      vq.loadStateDict({ 'embedding.weight': codebook! });
      const latent = z!.clone().requiresGrad_();
      const q = vq.forward(latent);
      q.zq.sum().mul(0.5).add(q.loss).backward();
      const out = [q.zq, q.loss, latent.grad!, vq.embedding.weight.grad!].map((x) => x.detach());
      vq.dispose();
      return out;
    },
    setup: quantizerPy,
    py: 'vq(x0, x1)',
  }], { rtol: 1e-5, atol: 1e-6 });
  await t.test(outcome!.name, () => assert.deepEqual(outcome!.problems, []));
});

test('quantizer ids are the codes of highest cosine, in the latent\'s grid layout', () => tidy(() => {
  const { vq } = setup(1);
  const fmap = randn([2, D, 3, 4]);
  const q = vq.forward(fmap);
  assert.deepEqual(q.idsGrid.shape, [2, 3, 4]);
  assert.deepEqual(q.zq.shape, [2, D, 3, 4]);
  const cos = l2Normalize(fmap.flatten(2).transpose(1, 2)).matmul(vq.codes().T);
  assert.deepEqual(q.ids.tolist(), cos.argmax(-1).tolist());
  assert.throws(() => vq.forward(randn([2, 5, D + 1])), /width 8/);
  vq.dispose();
}));

test('perturbation: changed-token fraction ≈ α·(δ−1)/δ, untouched images bit-identical, replacements among the top δ', () => tidy(() => {
  const { vq, latent } = setup(2, 20, 256);
  const q = vq.forward(latent);
  const codes = vq.codes();
  for (const [alpha, delta] of [[1, 4], [0.5, 8], [0.3, 2]] as const) {
    const stream = new RandomStream(7);
    const p = latentPerturbation(q.z, q.zq, vq.embedding.weight, q.ids, { alpha, beta: 0.5, delta, stream });
    const perturbedImages = 10;  // ⌊β·B⌋
    const head = (t: Tensor) => t.slice(0, 0, perturbedImages);
    const rest = (t: Tensor) => t.slice(0, perturbedImages);
    const changed = head(p.ids.ne(q.ids)).float().mean().item();
    const expected = alpha * (delta - 1) / delta;
    // 10·256 tokens: the standard error of the fraction is below 0.01.
    assert.ok(Math.abs(changed - expected) < 0.04, `α ${alpha}, δ ${delta}: changed ${changed}, expected ${expected}`);
    assert.equal(rest(p.redrawn).any().item(), 0, 'only the first ⌊β·B⌋ images are redrawn');
    // Untouched images, and tokens not redrawn, are zq bit for bit.
    assert.equal(rest(p.latent).eq(rest(q.zq)).all().item(), 1);
    const keptTokens = p.redrawn.logicalNot().unsqueeze(-1);
    assert.equal(p.latent.eq(q.zq).logicalOr(keptTokens.logicalNot()).all().item(), 1);
    // Each id is among the δ codes nearest to its latent.
    const top = q.z.matmul(codes.T).topk(delta, -1)[1];
    assert.ok(top.eq(p.ids.unsqueeze(-1)).any(-1).all().item());
  }
  vq.dispose();
}));

test('perturbation: gradients reach the encoder through perturbed tokens, not the codebook', () => tidy(() => {
  const { vq, latent } = setup(3, 4, 16);
  const q = vq.forward(latent);
  const p = latentPerturbation(q.z, q.zq, vq.embedding.weight, q.ids, { alpha: 1, beta: 1, delta: 6, stream: new RandomStream(1) });
  assert.ok(p.redrawn.all().item());
  p.latent.pow(2).sum().backward();
  assert.equal(vq.embedding.weight.grad, null, 'no gradient to the codebook');
  assert.ok(latent.grad!.abs().sum().item() > 0, 'the encoder output gets a gradient');
  vq.dispose();
}));

test('perturbation works on [B, D, H, W] feature maps and with a random image subset', () => tidy(() => {
  const { vq } = setup(4);
  const fmap = randn([8, D, 4, 4]);
  const q = vq.forward(fmap);
  const p = latentPerturbation(fmap, q.zq, vq.embedding.weight, q.idsGrid, { alpha: 1, beta: 0.25, delta: 5, select: 'random', stream: new RandomStream(3) });
  assert.deepEqual(p.latent.shape, [8, D, 4, 4]);
  const perImage = p.redrawn.any(1).float().sum().item();
  assert.equal(perImage, 2, '⌊0.25·8⌋ images');
  // Only the selected images' candidates are searched; the same draws over all 8 images' candidates give the same ids.
  const stream = new RandomStream(3);
  const pick = randint(0, 5, [8, 16, 1], { stream });
  const chosen = randperm(8, { stream }).lt(2).reshape(8, 1);
  const redrawn = bernoulli(zeros([8, 16]), 1, stream).logicalAnd(chosen);
  const candidates = perturbationCandidates(fmap.flatten(2).transpose(1, 2), vq.embedding.weight, 5, 'cosine');   // [8, 16, 5]
  const expected = where(redrawn, candidates.gather(2, pick).squeeze(2), q.idsGrid.reshape(8, 16));
  assert.equal(p.ids.eq(expected).all().item(), 1);
  vq.dispose();
}));

test('perturbation options are validated with the symbol and range', () => tidy(() => {
  const { vq, latent } = setup(5, 2, 4);
  const q = vq.forward(latent);
  const call = (o: object) => latentPerturbation(q.z, q.zq, vq.embedding.weight, q.ids, { alpha: 0.5, beta: 0.1, delta: 4, ...o });
  assert.throws(() => call({ alpha: 1.5 }), /alpha \(α\) must be in \[0, 1\], got 1.5/);
  assert.throws(() => call({ delta: 0 }), /delta \(δ\) must be an integer in \[1, 32\]/);
  assert.throws(() => call({ beta: -0.1 }), /beta \(β\)/);
  vq.dispose();
}));

test('annealing schedule: r = 1 until 20%, linear to 0.5 at 60%, constant after', () => {
  const at = (fraction: number) => annealedPerturbation(fraction * 200, 200, { alpha: 1, delta: 100 });
  assert.deepEqual(at(0), { ratio: 1, alpha: 1, delta: 100 });
  assert.deepEqual(at(0.2), { ratio: 1, alpha: 1, delta: 100 });
  assert.deepEqual(at(0.4), { ratio: 0.75, alpha: 0.75, delta: 75 });
  assert.deepEqual(at(0.6), { ratio: 0.5, alpha: 0.5, delta: 50 });
  assert.deepEqual(at(1), { ratio: 0.5, alpha: 0.5, delta: 50 });
  assert.equal(annealedPerturbation(60, 200, { alpha: 1, delta: 100 }).delta, 87, 'δ = ⌊r·δ₀⌋ with r = 0.875 at 30%');
});

test('Gaussian latent noise: one scale per sample, bounded by σ_max', () => tidy(() => {
  manualSeed(6);
  const z = randn([64, 4, 2, 2]);
  const noisy = gaussianLatentNoise(z, 0.5, new RandomStream(2));
  const perSampleStd = noisy.sub(z).flatten(1).std(1);
  assert.ok(perSampleStd.max().item() < 0.5 * 1.8, 'σ ≤ σ_max (with sampling slack)');
  assert.ok(perSampleStd.std().item() > 0.05, 'scales differ between samples');
  assert.throws(() => gaussianLatentNoise(z, -1), /σ_max/);
}));

test('Gaussian perturbation: only the first ⌊β·B⌋ images get noise, scaled by the latent RMS; ids unchanged', () => tidy(() => {
  const zq = randn([8, 4, 3, 3], { stream: new RandomStream(3) }).mul(5);   // RMS ≈ 5
  const ids = randn([8, 3, 3], { stream: new RandomStream(4) }).abs().mul(10).floor().to('int64');
  const p = gaussianPerturbation(zq, ids, { kind: 'gaussian', scale: 0.4, beta: 0.25, stream: new RandomStream(5) });
  assert.deepEqual(p.latent.shape, [8, 4, 3, 3], 'the layout of zq comes back');
  const changed = p.latent.sub(zq).flatten(1).abs().amax(1).gt(0).tolist();
  assert.deepEqual(changed, [true, true, false, false, false, false, false, false], '⌊0.25·8⌋ = 2 images, the first of the batch');
  assert.deepEqual(p.redrawn.sum(1).tolist(), [9, 9, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(p.ids.tolist(), ids.reshape(8, 9).tolist());
  const std = p.latent.sub(zq).narrow(0, 0, 2).flatten(1).std(1).tolist() as number[];
  for (const s of std) assert.ok(s > 0 && s < 0.4 * 5 * 1.6, `per-image noise std ${s} ≤ σ_max·RMS (with sampling slack)`);
  assert.throws(() => gaussianPerturbation(zq, ids, { kind: 'gaussian', scale: -1, beta: 0.5 }), /scale \(σ_max\) must be ≥ 0/);
}));

test('quantizer and perturbation leak nothing', () => {
  const live = liveTensors();
  tidy(() => {
    const { vq, latent } = setup(8, 4, 8);
    const q = vq.forward(latent);
    latentPerturbation(q.z, q.zq, vq.embedding.weight, q.ids, { alpha: 1, beta: 1, delta: 3 }).latent.sum().backward();
    vq.dispose();
  });
  assert.equal(liveTensors(), live);
});
