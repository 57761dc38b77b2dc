// The δ nearest codes (docs/method.md §2) follow the codebook's metric
// everywhere: the quantizer's choice, the perturbation's candidates, the
// crowding statistic and the tokenizer lab. A Euclidean codebook (taming's
// kind) whose codes have very different norms ranks codes otherwise than
// cosine does; the lab's candidates must still be what the perturbation
// draws from.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import type { RawImage } from '../src/data/image.js';
import { type CodeDistance, codeNeighbours, nearestCodes, neighbourCosine } from '../src/metrics/index.js';
import { type RunningServer, startServer } from '../src/server/index.js';
import { Tokenizer, VectorQuantizer, imagesToTensor, modelOptions, readImageSpec, saveTokenizer, tokenizerSchema } from '../src/tokenizer/index.js';
import { RandomStream, manualSeed, noGrad, rand, randint, randn, tensor, tidy } from '../src/torch/index.js';
import { scratchDir } from './helpers/checkpoint.js';
import { presets } from './helpers/runs.js';
import { api } from './helpers/serve.js';

const ids = (t: { tolist(): unknown }) => t.tolist() as number[][];

// z = (1, 0). Cosine: code 0 (same direction, far away) first. Euclidean: code 1 (near, 30° off) first.
const codebook = [[10, 0], [0.9, 0.5], [0, 1], [-0.2, 0]];
const z = [[1, 0]];

test('nearestCodes ranks by the metric asked for; index 0 is the quantizer\'s own choice', () => tidy(() => {
  const codes = tensor(codebook.flat(), { shape: [4, 2] });
  const latent = tensor(z.flat(), { shape: [1, 2] });
  const unit = (x: typeof codes) => x.div(x.norm(2, -1, true));
  assert.deepEqual(ids(nearestCodes(unit(latent), unit(codes), 'cosine', 4)), [[0, 1, 2, 3]]);
  assert.deepEqual(ids(nearestCodes(latent, codes, 'euclidean', 4)), [[1, 3, 2, 0]]);
  assert.deepEqual(ids(nearestCodes(latent, codes, 'euclidean', 1)), [[1]]);
  assert.deepEqual(ids(nearestCodes(latent, codes, 'euclidean', 2, tensor([1], { dtype: 'int64' }))), [[3, 2]], 'an excluded code is left out');
  for (const distance of ['cosine', 'euclidean'] as CodeDistance[]) {
    const vq = new VectorQuantizer({ codebookSize: 4, codeDim: 2, distance });
    noGrad(() => vq.embedding.weight.copy_(codes));
    assert.deepEqual(ids(vq.forward(latent.reshape(1, 1, 2)).ids), [[distance === 'cosine' ? 0 : 1]]);
    vq.dispose();
  }
  // A code's neighbours: its nearest others by the metric (code 1's: 2 by Euclidean distance, 0 by cosine).
  assert.deepEqual(ids(codeNeighbours(codes, 'euclidean', 1, tensor([1], { dtype: 'int64' }))), [[2]]);
  assert.deepEqual(ids(codeNeighbours(unit(codes), 'cosine', 1, tensor([1], { dtype: 'int64' }))), [[0]]);
}));

test('neighbourCosine takes a Euclidean code\'s neighbours by Euclidean distance: what a perturbed token can turn into', () => tidy(() => {
  const codes = tensor(codebook.flat(), { shape: [4, 2], dtype: 'float64' });
  const used = tensor([false, true, false, false]);
  const cos = (a: number[], b: number[]) => (a[0]! * b[0]! + a[1]! * b[1]!) / Math.hypot(a[0]!, a[1]!) / Math.hypot(b[0]!, b[1]!);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);
  close(neighbourCosine(codes, used, 2, 'euclidean'), cos(codebook[1]!, codebook[2]!), 'code 1\'s nearest by Euclidean distance is code 2');
  close(neighbourCosine(codes, used, 2), cos(codebook[1]!, codebook[0]!), 'by cosine it is code 0');
}));

// ---- the tokenizer lab, through its API, on a Euclidean codebook -----------------

const work = scratchDir();
const runs = path.join(work, 'runs');
const dir = path.join(runs, 'euclid');
const delta = 6;
let server: RunningServer;
let base = '';
before(async () => {
  manualSeed(4);
  const config = resolveConfig(tokenizerSchema, [loadConfigFile(presets.tokenizer)], ['model.codebookSize=16']);
  const model = new Tokenizer({ ...modelOptions(config), distance: 'euclidean' });
  // Norms from 0.1 to 3: raw distances then rank codes far from their cosine order.
  noGrad(() => model.quantize.embedding.weight.copy_(randn([16, 8]).mul(rand([16, 1]).mul(2.9).add(0.1))));
  mkdirSync(dir, { recursive: true });
  saveTokenizer(dir, model, { size: 32, channels: 1, fit: 'resize', padValue: 0 });
  model.dispose();
  server = await startServer({ runs, port: 0 });
  base = server.url;
});
after(() => server.close());

type Reconstruction = { grid: [number, number]; ids: number[]; perturbedIds: number[]; candidates: number[][]; images: Record<string, string> };
const reconstruct = async (fields: Record<string, unknown>): Promise<Reconstruction> => {
  const { status, json } = await api(base, '/api/tokenizer/reconstruct', { run: 'euclid', data: 'fashion-mnist', image: { test: 3 }, delta, seed: 7, ...fields });
  assert.equal(status, 200, JSON.stringify(json));
  return json as unknown as Reconstruction;
};

/** The image the lab fed the tokenizer, from its `original` PNG (8-bit in, 8-bit out: exact). */
async function labInput(r: Reconstruction): Promise<RawImage> {
  const png = Buffer.from(r.images.original!.split(',')[1]!, 'base64');
  const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 1 };
}

/** Each row's codes ordered by `score` (larger nearer), computed in plain numbers. */
const rankBy = (latents: number[][], codes: number[][], score: (z: number[], e: number[]) => number) =>
  latents.map((l) => codes.map((e, k) => [score(l, e), k] as const).sort((a, b) => b[0] - a[0]).map(([, k]) => k));
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

test('the lab\'s candidates on a Euclidean codebook are the δ nearest by Euclidean distance, unlike cosine\'s, and are what the perturbation draws from', async () => {
  const still = await reconstruct({ alpha: 0 });
  assert.ok(still.candidates.every((c, i) => c.length === delta && c[0] === still.ids[i]), 'index 0 is the code VQ chose');
  const tokenizer = Tokenizer.load(dir);
  try {
    const image = await labInput(still);
    noGrad(() => tidy(() => {
      const q = tokenizer.encode(imagesToTensor([image], readImageSpec(dir)));
      assert.deepEqual(q.ids.flatten().tolist(), still.ids, 'the test encodes what the lab encoded');
      const latents = q.z.squeeze(0).tolist() as number[][];
      const codes = tokenizer.quantize.embedding.weight.tolist() as number[][];
      const euclidean = rankBy(latents, codes, (l, e) => -dot(l, l) - dot(e, e) + 2 * dot(l, e)).map((r) => r.slice(0, delta));
      const cosine = rankBy(latents, codes, (l, e) => dot(l, e) / Math.sqrt(dot(e, e))).map((r) => r.slice(0, delta));
      assert.deepEqual(still.candidates, euclidean);
      assert.ok(cosine.filter((r, i) => r.join() !== euclidean[i]!.join()).length > still.ids.length / 2, 'the two metrics rank most tokens\' codes differently');

      // The perturbation's draw for seed 7: a rank in [0, δ) per token (then which tokens, all at α = 1).
      const picks = (randint(0, delta, [1, still.ids.length, 1], { stream: new RandomStream(7) }).flatten().tolist() as number[]);
      const direct = tokenizer.perturb(q, { alpha: 1, beta: 1, delta, stream: new RandomStream(7) }).ids.flatten().tolist() as number[];
      assert.deepEqual(direct, picks.map((rank, i) => still.candidates[i]![rank]), 'the perturbation drew each token from the lab\'s candidates');
    }));
  } finally {
    tokenizer.dispose();
  }
  const moved = await reconstruct({ alpha: 1 });
  assert.deepEqual(moved.candidates, still.candidates);
  const picks = randint(0, delta, [1, moved.ids.length, 1], { stream: new RandomStream(7) }).flatten().tolist() as number[];
  assert.deepEqual(moved.perturbedIds, picks.map((rank, i) => moved.candidates[i]![rank]), 'the lab\'s own perturbation took those ranks');
  const clicked = await reconstruct({ alpha: 0, overrides: [{ index: 5, rank: 4 }] });
  assert.equal(clicked.perturbedIds[5], still.candidates[5]![4], 'a click picks from the same list');
});

test('a Euclidean code\'s neighbours in the lab are its nearest codes by Euclidean distance, with their cosines', async () => {
  const { status, json } = await api(base, '/api/tokenizer/neighbours?run=euclid&code=3&count=5');
  assert.equal(status, 200, JSON.stringify(json));
  const tokenizer = Tokenizer.load(dir);
  const codes = tokenizer.quantize.embedding.weight.tolist() as number[][];
  tokenizer.dispose();
  const others = (score: (e: number[]) => number) => codes.map((e, k) => [score(e), k] as const).filter(([, k]) => k !== 3)
    .sort((a, b) => b[0] - a[0]).slice(0, 5).map(([, k]) => k);
  const byEuclid = others((e) => -dot(e, e) + 2 * dot(codes[3]!, e));
  const byCosine = others((e) => dot(codes[3]!, e) / Math.sqrt(dot(e, e)));
  const near = json.neighbours as { code: number; cosine: number }[];
  assert.equal(json.metric, 'euclidean');
  assert.deepEqual(near.map((n) => n.code), byEuclid);
  assert.notDeepEqual(byEuclid, byCosine, 'the metrics disagree on this code');
  const cosineOf = (k: number) => dot(codes[3]!, codes[k]!) / Math.sqrt(dot(codes[3]!, codes[3]!) * dot(codes[k]!, codes[k]!));
  assert.ok(near.every((n) => Math.abs(n.cosine - cosineOf(n.code)) < 1e-5));
});
