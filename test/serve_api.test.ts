// `robustok serve`'s API against a real server on a free port:
// runs list and details, the tokenizer lab (clean and perturbed
// reconstructions, candidates, the same perturbation draw for two
// tokenizers, uploads, hand-swapped tokens), the generator lab, and every
// kind of bad input answered with its 4xx and a message that names the
// problem — after which the server still serves.
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { appendFileSync, mkdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { ModelCache } from '../src/server/model_cache.js';
import { type RunningServer, startServer } from '../src/server/index.js';
import { api, makeServeRuns } from './helpers/serve.js';

const runs = await makeServeRuns();
symlinkSync(runs.outside, path.join(runs.root, 'escape'));
let server: RunningServer;
let base = '';
before(async () => {
  server = await startServer({ runs: runs.root, port: 0 });
  base = server.url;
});
after(() => server.close());

type Reconstruction = { grid: [number, number]; ids: number[]; perturbedIds: number[]; candidates: number[][]; images: Record<string, string>; ms: number };
const reconstruct = async (fields: Record<string, unknown>) => {
  const { status, json } = await api(base, '/api/tokenizer/reconstruct', { run: 'tok', image: { test: 3 }, alpha: 0.5, delta: 4, seed: 7, ...fields });
  assert.equal(status, 200, JSON.stringify(json));
  return json as unknown as Reconstruction;
};
const readSize = (file: string): number => statSync(file).size;
/** Each token's position among its candidates: 0 where the encoder's code stayed, the drawn rank where it was redrawn. */
const ranks = (r: Reconstruction) => r.perturbedIds.map((id, i) => r.candidates[i]!.indexOf(id));

test('the runs list names every run with its kind and status; a run shows config, curves, results and sample grids', async () => {
  const { status, json } = await api(base, '/api/runs');
  assert.equal(status, 200);
  const kinds = Object.fromEntries((json.runs as { id: string; kind: string; status: string }[]).map((r) => [r.id, `${r.kind}/${r.status}`]));
  // 'escape' (a link out of --runs) is not listed: the scan does not follow links.
  assert.deepEqual(kinds, {
    gen: 'generator/done', post: 'post-trained tokenizer/done', repro: 'reproduce/stopped', 'repro/tokenizer/base-s0': 'tokenizer/stopped', tok: 'tokenizer/done', 'tok-random': 'tokenizer/done',
  });

  const detail = (await api(base, '/api/run?run=tok')).json as { config: { data: { name: string } }; metrics: { step: number; loss: number }[]; images: string[]; results: object };
  assert.equal(detail.config.data.name, 'fashion-mnist');
  assert.deepEqual(detail.metrics.map((m) => m.step), [5, 10, 15, 20, 25, 30]);
  assert.ok(detail.metrics.every((m) => Number.isFinite(m.loss)));
  assert.ok(detail.images.includes('samples/step-30.png'), detail.images.join());
  assert.ok('summary.json' in detail.results && 'tokenizer.json' in detail.results);
  const png = await fetch(new URL('/api/run/file?run=tok&file=samples/step-30.png', base));
  assert.equal(png.headers.get('content-type'), 'image/png');
  assert.deepEqual([...new Uint8Array(await png.arrayBuffer()).subarray(1, 4)], [0x50, 0x4e, 0x47]);
});

test('a run still training shows as training, and its new metrics lines appear (what the page polls for)', async () => {
  const dir = path.join(runs.root, 'live');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ data: { name: 'fashion-mnist' }, perturbation: { alpha: 1 } }));
  writeFileSync(path.join(dir, '.robustok.lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() }));
  appendFileSync(path.join(dir, 'metrics.jsonl'), '{"step":1,"loss":2}\n');
  try {
    const first = ((await api(base, '/api/runs')).json.runs as { id: string; status: string; updated: number }[]).find((r) => r.id === 'live')!;
    assert.deepEqual([first.status, (await api(base, '/api/run?run=live')).json.metrics], ['training', [{ step: 1, loss: 2 }]]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    appendFileSync(path.join(dir, 'metrics.jsonl'), '{"step":2,"loss":1}\n{"step":3,"lo');  // a line being written is left out
    const later = ((await api(base, '/api/runs')).json.runs as { id: string; updated: number }[]).find((r) => r.id === 'live')!;
    assert.ok(later.updated > first.updated, 'the run\'s update time moves');
    assert.deepEqual(((await api(base, '/api/run?run=live')).json.metrics as { step: number }[]).map((m) => m.step), [1, 2]);
    const refused = await api(base, '/api/tokenizer/reconstruct', { run: 'live', image: { test: 0 }, alpha: 0, delta: 1 });
    assert.deepEqual([refused.status, refused.json.error], [409, "run 'live' has no trained tokenizer yet (tokenizer.safetensors appears when training ends)"]);
    // The kind its writer records wins over the guess from config keys that old folders get.
    writeFileSync(path.join(dir, 'run.json'), '{"kind":"generator"}\n');
    assert.equal(((await api(base, '/api/runs')).json.runs as { id: string; kind: string }[]).find((r) => r.id === 'live')!.kind, 'generator');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('the model cache keeps models while their weights fit the bound, dropping the least recently used (and disposing it)', () => {
  const weights = path.join(runs.root, 'tok', 'tokenizer.safetensors');
  const disposed: string[] = [];
  const model = (name: string) => ({ dispose: () => disposed.push(name) });
  const size = readSize(weights);
  const cache = new ModelCache(2 * size);
  const loads: string[] = [];
  const get = (key: string) => cache.get(key, weights, () => (loads.push(key), model(key)));
  get('a'); get('b'); get('a'); get('c');
  assert.deepEqual([loads, disposed, cache.keys()], [['a', 'b', 'c'], ['b'], ['a', 'c']], 'b was the least recently used');
  const single = new ModelCache(1);
  single.get('big', weights, () => model('big'));
  assert.deepEqual(single.keys(), ['big'], 'a model larger than the bound still loads, alone');
});

test('reconstruction: α = 0 leaves the tokens, α = 1 redraws them among their δ nearest codes; the clean image never moves', async () => {
  const still = await reconstruct({ alpha: 0 });
  assert.deepEqual(still.grid, [16, 16]);
  assert.equal(still.ids.length, 256);
  assert.deepEqual(still.perturbedIds, still.ids);
  assert.equal(still.images.perturbed, still.images.clean);
  assert.ok(still.candidates.every((c, i) => c.length === 4 && c[0] === still.ids[i]), 'a token\'s nearest code is the one VQ chose');
  const moved = await reconstruct({ alpha: 1 });
  assert.equal(moved.images.clean, still.images.clean, 'the clean reconstruction does not depend on α');
  assert.notEqual(moved.images.perturbed, still.images.perturbed);
  assert.ok(moved.perturbedIds.filter((id, i) => id !== moved.ids[i]).length > 128, 'about 3/4 of the tokens change at α = 1, δ = 4');
  assert.ok(moved.perturbedIds.every((id, i) => moved.candidates[i]!.includes(id)));
  const again = await reconstruct({ alpha: 1 });
  assert.deepEqual([again.perturbedIds, again.images.perturbed], [moved.perturbedIds, moved.images.perturbed], 'the seed fixes the draw');
  const other = await reconstruct({ alpha: 1, seed: 8 });
  assert.notDeepEqual(other.perturbedIds, moved.perturbedIds, 'another seed, another draw');
});

test('two tokenizers given the same seed, α and δ get the same draw: the same tokens redrawn to the same rank among their own nearest codes', async () => {
  const a = await reconstruct({ alpha: 0.5 });
  const b = await reconstruct({ run: 'tok-random', data: 'fashion-mnist', alpha: 0.5 });
  assert.notDeepEqual(b.ids, a.ids, 'another codebook, other codes');
  assert.deepEqual(ranks(b), ranks(a));
  assert.ok(ranks(a).some((r) => r > 0), 'some tokens were redrawn away from their code');
});

test('a post-trained tokenizer opens in the lab without naming its dataset (its folder records it) and, with the same codebook, draws exactly what its source draws', async () => {
  const source = await reconstruct({ alpha: 0.5 });
  const post = await reconstruct({ run: 'post', alpha: 0.5 });
  assert.deepEqual([post.ids, post.perturbedIds], [source.ids, source.perturbedIds], 'same encoder and codebook: same tokens, same perturbation');
  assert.notEqual(post.images.perturbed, source.images.perturbed, 'another decoder renders them');
});

test('a clicked token takes the code of the rank asked for and the other tokens stay; hovering names a code\'s nearest codes', async () => {
  const plain = await reconstruct({ alpha: 0 });
  const index = 27;
  const swapped = await reconstruct({ alpha: 0, overrides: [{ index, rank: 3 }] });
  assert.equal(swapped.perturbedIds[index], plain.candidates[index]![3]);
  assert.deepEqual(swapped.perturbedIds.filter((_, i) => i !== index), plain.ids.filter((_, i) => i !== index));
  assert.notEqual(swapped.images.perturbed, plain.images.perturbed);
  const { json } = await api(base, '/api/tokenizer/neighbours?run=tok&code=5&count=3');
  const near = json.neighbours as { code: number; cosine: number }[];
  assert.equal(near.length, 3);
  assert.ok(near.every((n) => n.code !== 5 && n.cosine <= 1 + 1e-6) && near[0]!.cosine >= near[2]!.cosine);
});

test('an uploaded image (any size, RGB) is fitted to the tokenizer and reconstructed', async () => {
  const png = await sharp({ create: { width: 48, height: 40, channels: 3, background: { r: 200, g: 30, b: 90 } } }).png().toBuffer();
  const up = await api(base, '/api/upload', png);
  assert.equal(up.status, 200, JSON.stringify(up.json));
  assert.deepEqual([up.json.width, up.json.height], [48, 40]);
  const r = await reconstruct({ image: { upload: up.json.upload } });
  const original = await sharp(Buffer.from(r.images.original!.split(',')[1]!, 'base64')).metadata();
  assert.deepEqual([original.width, original.height], [32, 32], '32 × 32, as the tokenizer was trained');
});

test('the generator lab: a seeded sample decoded by two decoders of one codebook, and σ-preserving sampling at σ = 1 keeps the image\'s tokens', async () => {
  const ask = (fields: object) => api(base, '/api/generator/sample', { run: 'gen', class: 2, seed: 3, cfg: 2, temperature: 1, topK: 10, ...fields });
  const first = await ask({ decoders: ['tok', 'tok'] });
  assert.equal(first.status, 200, JSON.stringify(first.json));
  const images = first.json.images as string[];
  assert.equal(images.length, 2);
  assert.equal(images[0], images[1], 'the same tokens through the same decoder');
  assert.deepEqual((await ask({})).json.ids, first.json.ids, 'the seed fixes the sample');
  const kept = await api(base, '/api/generator/preserved', { run: 'gen', image: { test: 0 }, sigma: 1, seed: 0 });
  assert.equal(kept.status, 200, JSON.stringify(kept.json));
  assert.ok((kept.json.kept as boolean[]).every(Boolean));
  assert.deepEqual(kept.json.images, kept.json.truth);
});

/** GET with the path sent exactly as written (fetch would normalise the dots away on the client). */
const rawGet = (route: string) => new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
  get(new URL(base), { path: route }, (response) => {
    let text = '';
    response.on('data', (part: Buffer) => { text += part.toString(); });
    response.on('end', () => resolve({ status: response.statusCode!, json: JSON.parse(text) as Record<string, unknown> }));
  }).on('error', reject);
});

/** [what, request, status, message pattern] for each bad input. */
const tooWide = await sharp({ create: { width: 5000, height: 8, channels: 3, background: '#000' } }).png().toBuffer();
const bad: [string, () => ReturnType<typeof api>, number, RegExp][] = [
  ['a text file as an image', () => api(base, '/api/upload', 'hello, not an image'), 415, /not a PNG, JPEG or WebP image/],
  ['an image over 10 MB', () => api(base, '/api/upload', new Uint8Array(11 << 20)), 413, /the upload is 11\.0 MB; the limit is 10\.0 MB/],
  ['an image over 4096 px', () => api(base, '/api/upload', tooWide), 413, /5000 × 8 px; the limit is 4096 px a side/],
  ['an empty upload', () => api(base, '/api/upload', ''), 400, /the upload is empty/],
  ['a run path with ..', () => api(base, '/api/run?run=../runs/tok'), 403, /run '\.\.\/runs\/tok' is outside --runs/],
  ['an absolute run path', () => api(base, `/api/run?run=${encodeURIComponent(runs.outside)}`), 403, /is outside --runs/],
  ['a link that leads out of --runs', () => api(base, '/api/tokenizer/reconstruct', { run: 'escape', image: { test: 0 }, alpha: 0, delta: 1, data: 'mnist' }), 403, /run 'escape' is outside --runs/],
  ['an unknown run', () => api(base, '/api/run?run=nope'), 404, /no run 'nope' under --runs/],
  ['no run named', () => api(base, '/api/run'), 400, /'run' must name a run/],
  ['a generator where a tokenizer is needed', () => api(base, '/api/tokenizer/reconstruct', { run: 'gen', image: { test: 0 }, alpha: 0, delta: 1 }), 400, /run 'gen' is a generator; this needs a tokenizer/],
  ['a file that is not a sample grid', () => api(base, '/api/run/file?run=tok&file=config.json'), 400, /'file' must be one of the run's images/],
  ['α above 1', () => api(base, '/api/tokenizer/reconstruct', { run: 'tok', image: { test: 0 }, alpha: 1.5, delta: 4 }), 400, /'alpha' \(α, .*\) must be a number in \[0, 1\], got 1\.5/],
  ['α as text', () => api(base, '/api/tokenizer/reconstruct', { run: 'tok', image: { test: 0 }, alpha: 'half', delta: 4 }), 400, /'alpha' .* got "half"/],
  ['δ above the codebook size', () => api(base, '/api/tokenizer/reconstruct', { run: 'tok', image: { test: 0 }, alpha: 0.5, delta: 65 }), 400, /'delta' .* must be an integer in \[1, 64\] \(this tokenizer's codebook size\), got 65/],
  ['a negative seed', () => api(base, '/api/tokenizer/reconstruct', { run: 'tok', image: { test: 0 }, alpha: 0.5, delta: 4, seed: -1 }), 400, /'seed' .* got -1/],
  ['a test image past the end', () => api(base, '/api/tokenizer/reconstruct', { run: 'tok', image: { test: 10000 }, alpha: 0.5, delta: 4 }), 400, /must be an integer in \[0, 9999\], got 10000/],
  ['an override rank of δ', () => api(base, '/api/tokenizer/reconstruct', { run: 'tok', image: { test: 0 }, alpha: 0.5, delta: 4, overrides: [{ index: 0, rank: 4 }] }), 400, /override rank 4 at token 0 must be an integer in \[0, 3\]/],
  ['an unknown upload', () => api(base, '/api/tokenizer/reconstruct', { run: 'tok', image: { upload: 'u999' }, alpha: 0.5, delta: 4 }), 404, /no upload 'u999'/],
  ['a tokenizer that names no dataset', () => api(base, '/api/tokenizer/reconstruct', { run: 'tok-random', image: { test: 0 }, alpha: 0.5, delta: 4 }), 400, /run 'tok-random' does not record its dataset; pass 'data'/],
  ['a body that is not JSON', () => api(base, '/api/tokenizer/reconstruct', '{"run": "tok", '), 400, /the request body is not valid JSON/],
  ['a JSON array as body', () => api(base, '/api/tokenizer/reconstruct', '[1, 2]'), 400, /the request body must be a JSON object, got an array/],
  ['a missing image', () => api(base, '/api/tokenizer/reconstruct', { run: 'tok', alpha: 0.5, delta: 4 }), 400, /'image' must be \{ "test": INDEX \}, \{ "train": INDEX \} or \{ "upload": ID \}/],
  ['a CFG scale out of range', () => api(base, '/api/generator/sample', { run: 'gen', cfg: 1000 }), 400, /cfg.*1000/],
  ['a decoder of another codebook', () => api(base, '/api/generator/sample', { run: 'gen', decoders: ['tok-random'] }), 400, /decoder tok-random has a different codebook/],
  ['σ above 1', () => api(base, '/api/generator/preserved', { run: 'gen', image: { test: 0 }, sigma: 2 }), 400, /'sigma' .* must be a number in \[0, 1\], got 2/],
  ['a class the generator does not have', () => api(base, '/api/generator/sample', { run: 'gen', class: 10 }), 400, /'class' .* must be an integer in \[0, 9\], got 10/],
  ['an unknown route', () => api(base, '/api/nothing'), 404, /no route GET \/api\/nothing/],
  ['a page path that climbs out', () => rawGet('/../../etc/passwd'), 404, /no route GET \/etc\/passwd/],
  ['a module path that climbs out', () => rawGet('/..%2f..%2fpackage.js'), 404, /no route GET \/\.\.%2f\.\.%2fpackage\.js/],
  ['GET on a POST route', () => api(base, '/api/upload'), 405, /\/api\/upload takes POST, not GET/],
];

test('bad input gets a 4xx that names the problem, and the server keeps serving after each', async () => {
  for (const [what, request, status, message] of bad) {
    const answer = await request();
    assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.json)}`);
    assert.match(String(answer.json.error), message, what);
    assert.equal((await api(base, '/api/runs')).status, 200, `still serving after ${what}`);
  }
  const r = await reconstruct({});
  assert.equal(r.ids.length, 256, 'and the inference worker still answers');
});
