// Using a trained tokenizer: `robustok encode | decode | reconstruct` run
// in-process on a random-weight tokenizer of the tiny preset's shape (3
// channels) and three small images; ids cross-checked against NumPy's
// reading of the .npy, decoded PNGs against decodeIds, `Tokenizer.load`
// against the saved model; the error cases; every preset resolves.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { decodeCommand, encodeCommand, encodeUsage, reconstructCommand, reconstructUsage } from '../src/cli/tokenize.js';
import { decodeNpy, encodeNpy } from '../src/cli/npy.js';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { imagesToBytes } from '../src/data/index.js';
import { psnr } from '../src/metrics/index.js';
import {
  type ImageSpec, Tokenizer, checkTokenizerConfig, modelOptions, readImageFiles, readImageSpec, saveTokenizer, tokenGrid, tokenizerSchema,
} from '../src/tokenizer/index.js';
import { liveTensors, manualSeed, noGrad, tensor, tidy } from '../src/torch/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const presets = path.join(root, 'configs', 'tokenizer');
const work = mkdtempSync(path.join(tmpdir(), 'robustok-tokenize-'));
after(() => rmSync(work, { recursive: true, force: true }));

const tokDir = path.join(work, 'tok');
const imgDir = path.join(work, 'images');
const spec: ImageSpec = { size: 32, channels: 3, fit: 'resize', padValue: 255 };
const names = ['a.png', 'b.png', 'c.png'];
const files = names.map((n) => path.join(imgDir, n));
let model: Tokenizer;

/** Runs `fn` with console output captured (the commands print a summary and a progress bar; warnings apart). */
async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; out: string; warnings: string[] }> {
  const lines: string[] = [];
  const warnings: string[] = [];
  const { log, error, warn } = console;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  console.error = (...a: unknown[]) => void lines.push(a.join(' '));
  console.warn = (...a: unknown[]) => void warnings.push(a.join(' '));
  try {
    return { value: await fn(), out: lines.join('\n'), warnings };
  } finally {
    Object.assign(console, { log, error, warn });
  }
}

/** A PNG's pixels as CHW bytes, with its size. */
async function pngChw(file: string): Promise<{ width: number; height: number; channels: number; chw: Uint8Array }> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  const plane = info.width * info.height;
  const chw = new Uint8Array(data.length);
  for (let p = 0; p < plane; p++) for (let c = 0; c < info.channels; c++) chw[c * plane + p] = data[p * info.channels + c]!;
  return { width: info.width, height: info.height, channels: info.channels, chw };
}

const maxDiff = (a: Uint8Array, b: Uint8Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), a.length === b.length ? 0 : Infinity);
const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

before(async () => {
  // Random weights of the tiny preset's architecture, in colour: the commands must not care whether it was trained.
  const config = resolveConfig(tokenizerSchema, [loadConfigFile(path.join(presets, 'tiny.yaml'))], ['data.channels=3']);
  manualSeed(0);
  model = new Tokenizer(modelOptions(config)).eval();
  mkdirSync(tokDir);
  saveTokenizer(tokDir, model, spec);
  // Three inputs of different shapes: at the tokenizer's size, non-square (resized and centre-cropped), smaller (scaled up).
  mkdirSync(imgDir);
  const sizes: [number, number][] = [[32, 32], [48, 40], [20, 20]];
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  await Promise.all(sizes.map(([w, h], i) => {
    const pixels = Buffer.from(Array.from({ length: w * h * 3 }, (_, p) => Math.round(127 + 100 * Math.sin(p / 37 + i) * random())));
    return sharp(pixels, { raw: { width: w, height: h, channels: 3 } }).png().toFile(files[i]!);
  }));
});

test('tokenizer.json records the image geometry; Tokenizer.load rebuilds the saved model exactly', async () => {
  const json = JSON.parse(readFileSync(path.join(tokDir, 'tokenizer.json'), 'utf8')) as { image: ImageSpec; architecture: string };
  assert.deepEqual(json.image, spec);
  assert.deepEqual(readImageSpec(tokDir), spec);
  const loaded = Tokenizer.load(tokDir);
  const x = await readImageFiles(files, spec);
  try {
    tidy(() => noGrad(() => {
      assert.equal(loaded.training, false, 'loaded in eval mode');
      const mine = model.encode(x);
      const theirs = loaded.encode(x);
      assert.deepEqual(theirs.idsGrid.tolist(), mine.idsGrid.tolist());
      assert.deepEqual([...(loaded.decodeIds(theirs.idsGrid).toTypedArray() as Float32Array)], [...(model.decodeIds(mine.idsGrid).toTypedArray() as Float32Array)]);
    }));
  } finally {
    x.dispose();
    loaded.dispose();
  }
});

test('encode: JSON and .npy hold the same [N, h, w] ids, in range, as NumPy reads them', async () => {
  const grid = tokenGrid(model.options, spec.size);
  assert.deepEqual(grid, [16, 16], 'tiny preset: 2 levels, f = 2');
  const asJson = (await quiet(() => encodeCommand(['--tokenizer', tokDir, '--input', imgDir, '--out', path.join(work, 'tokens.json')]))).value;
  const { value: asNpy, out } = await quiet(() => encodeCommand(['--tokenizer', tokDir, '--input', imgDir, '--out', path.join(work, 'ids.npy'), '--batch', '2']));
  assert.match(out, /3 images → .*ids\.npy: 16×16 tokens each, ids in \[0, 64\)/);
  assert.deepEqual([...asNpy.ids], [...asJson.ids], 'batch size does not change the ids');

  const json = JSON.parse(readFileSync(path.join(work, 'tokens.json'), 'utf8')) as { tokenizer: string; grid: number[]; files: string[]; ids: number[][] };
  assert.equal(json.tokenizer, tokDir);
  assert.deepEqual(json.grid, [16, 16]);
  assert.deepEqual(json.files, files);
  assert.equal(json.ids.length, 3);
  for (const row of json.ids) {
    assert.equal(row.length, 256);
    assert.ok(row.every((v) => Number.isInteger(v) && v >= 0 && v < 64));
  }
  // The ids are the model's own on the same tensors.
  const x = await readImageFiles(files, spec);
  const expected = tidy(() => noGrad(() => model.encode(x).idsGrid.tolist())) as number[][][];
  x.dispose();
  assert.deepEqual(json.ids, expected.map((image) => image.flat()));

  const sibling = JSON.parse(readFileSync(path.join(work, 'ids.json'), 'utf8')) as { files: string[]; grid: number[]; ids?: unknown };
  assert.deepEqual([sibling.files, sibling.grid, sibling.ids], [files, [16, 16], undefined], 'ids.npy: file names beside it');
  const numpy = execFileSync('/usr/bin/python3', ['-c', [
    'import json, sys, numpy',
    'a = numpy.load(sys.argv[1])',
    'print(json.dumps({"dtype": str(a.dtype), "shape": list(a.shape), "ids": a.reshape(a.shape[0], -1).tolist()}))',
  ].join('\n'), path.join(work, 'ids.npy')], { encoding: 'utf8' });
  const parsed = JSON.parse(numpy) as { dtype: string; shape: number[]; ids: number[][] };
  assert.equal(parsed.dtype, 'int64');
  assert.deepEqual(parsed.shape, [3, 16, 16]);
  assert.deepEqual(parsed.ids, json.ids);
});

test('.npy: the header is 64-byte aligned and NumPy-written int32 files read back', () => {
  const bytes = encodeNpy([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.equal((10 + bytes.readUInt16LE(8)) % 64, 0);
  assert.deepEqual(decodeNpy(bytes).shape, [2, 3]);
  const file = path.join(work, 'int32.npy');
  execFileSync('/usr/bin/python3', ['-c', 'import numpy, sys; numpy.save(sys.argv[1], numpy.arange(-3, 9, dtype=numpy.int32).reshape(2, 2, 3))', file]);
  const read = decodeNpy(readFileSync(file));
  assert.deepEqual(read.shape, [2, 2, 3]);
  assert.equal(read.descr, '<i4');
  assert.deepEqual([...read.values], Array.from({ length: 12 }, (_, i) => i - 3));
});

test('decode: PNGs equal decodeIds of the ids, from JSON, .npy and a NumPy int32 file alike', async () => {
  const json = JSON.parse(readFileSync(path.join(work, 'tokens.json'), 'utf8')) as { ids: number[][] };
  const expected = tidy(() => noGrad(() => imagesToBytes(model.decodeIds(tensor(json.ids.flat(), { dtype: 'int64', shape: [3, 16, 16] })))));
  const int32 = path.join(work, 'ids32.npy');
  execFileSync('/usr/bin/python3', ['-c', 'import numpy, sys; numpy.save(sys.argv[2], numpy.load(sys.argv[1]).astype(numpy.int32))', path.join(work, 'ids.npy'), int32]);
  for (const [input, outNames] of [['tokens.json', names], ['ids.npy', names], ['ids32.npy', ['000000.png', '000001.png', '000002.png']]] as const) {
    const out = path.join(work, `decoded-${input}`);
    // One batch, as decodeIds above: batch composition may move float rounding.
    const { value } = await quiet(() => decodeCommand(['--tokenizer', tokDir, '--input', path.join(work, input), '--out', out]));
    assert.deepEqual(readdirSync(out).sort(), [...outNames], `${input}: named after the encoded files when known`);
    const pngs = await Promise.all(value.outputs.map(pngChw));
    for (const png of pngs) assert.deepEqual([png.width, png.height, png.channels], [32, 32, 3]);
    assert.deepEqual(concat(pngs.map((p) => p.chw)), expected, `${input}: PNG bytes are decodeIds' output`);
  }
});

test('reconstruct: one PNG per input at the tokenizer size, the PSNR of forward(), a grid; perturbation is seeded', async () => {
  const live = liveTensors();
  const out = path.join(work, 'recon');
  const { value, out: printed } = await quiet(() =>
    reconstructCommand(['--tokenizer', tokDir, '--input', imgDir, '--out', out, '--grid', path.join(work, 'grid.png')]));
  assert.equal(liveTensors(), live, 'the command frees its tensors and the model');
  assert.deepEqual(readdirSync(out).sort(), names);
  const pngs = await Promise.all(value.outputs.map(pngChw));
  for (const png of pngs) assert.deepEqual([png.width, png.height, png.channels], [32, 32, 3]);

  const x = await readImageFiles(files, spec);
  const { expectedPsnr, clean } = tidy(() => noGrad(() => {
    const image = model.forward(x).image;
    return { expectedPsnr: psnr(image, x), clean: imagesToBytes(image) };
  }));
  x.dispose();
  assert.ok(Math.abs(value.psnr - expectedPsnr) < 1e-9, `PSNR ${value.psnr} vs ${expectedPsnr}`);
  assert.equal(value.psnrPerturbed, null);
  assert.match(printed, new RegExp(`PSNR ${expectedPsnr.toFixed(2)} dB`));
  assert.deepEqual(concat(pngs.map((p) => p.chw)), clean);
  // Clean reconstruction decodes z + sg(e − z), decode decodes e: equal up to float rounding.
  const decoded = await Promise.all(names.map((n) => pngChw(path.join(work, 'decoded-tokens.json', n))));
  const diff = maxDiff(concat(decoded.map((p) => p.chw)), clean);
  assert.ok(diff <= 1, `reconstruct vs encode → decode differ by ${diff} levels`);

  const grid = await sharp(path.join(work, 'grid.png')).metadata();
  assert.deepEqual([grid.width, grid.height], [3 * 34 + 2, 2 * 34 + 2], 'one row of originals, one of reconstructions');

  const perturbed = async (dir: string, seed: string) => (await quiet(() => reconstructCommand(['--tokenizer', tokDir, '--input', imgDir, '--out', path.join(work, dir),
    '--perturb-alpha', '1', '--perturb-delta', '8', '--seed', seed]))).value;
  const [p1, p2, p3] = [await perturbed('p1', '3'), await perturbed('p2', '3'), await perturbed('p3', '4')];
  assert.ok(p1.psnrPerturbed !== null && Math.abs(p1.psnr - value.psnr) < 1e-9);
  const bytesOf = async (r: typeof p1) => concat((await Promise.all(r.outputs.map(pngChw))).map((p) => p.chw));
  assert.deepEqual(await bytesOf(p1), await bytesOf(p2), 'same seed, same images');
  assert.notDeepEqual(await bytesOf(p1), await bytesOf(p3), 'another seed, other tokens');
  assert.notDeepEqual(await bytesOf(p1), clean, 'written from perturbed tokens');

  const single = path.join(work, 'single', 'b-recon.png');
  const one = (await quiet(() => reconstructCommand(['--tokenizer', tokDir, '--input', files[1]!, '--out', single]))).value;
  assert.deepEqual(one.outputs, [single]);
  const alone = maxDiff((await pngChw(single)).chw, clean.subarray(32 * 32 * 3, 2 * 32 * 32 * 3));
  assert.ok(alone <= 1, `b.png alone vs in a batch of 3: ${alone} levels`);
});

test('a ViT tokenizer: N latent tokens as a √N × √N grid, the image size from its own options', async () => {
  const config = resolveConfig(tokenizerSchema, [], ['model.architecture=vit', 'data.channels=3', 'data.size=32', 'model.codebookSize=32', 'model.codeDim=8',
    'model.vit.patchSize=8', 'model.vit.width=16', 'model.vit.depth=1', 'model.vit.heads=2', 'model.vit.numLatentTokens=9']);
  manualSeed(1);
  const vit = new Tokenizer(modelOptions(config)).eval();
  const dir = path.join(work, 'vit');
  mkdirSync(dir);
  saveTokenizer(dir, vit);  // no image spec: a ViT knows its own image size
  try {
    assert.deepEqual(readImageSpec(dir), { size: 32, channels: 3, fit: 'resize', padValue: 255 });
    const { value } = await quiet(() => encodeCommand(['--tokenizer', dir, '--input', imgDir, '--out', path.join(work, 'vit.json')]));
    assert.deepEqual(value.grid, [3, 3]);
    assert.equal(value.ids.length, 3 * 9);
    const decoded = (await quiet(() => decodeCommand(['--tokenizer', dir, '--input', path.join(work, 'vit.json'), '--out', path.join(work, 'vit-decoded')]))).value;
    const expected = tidy(() => noGrad(() => imagesToBytes(vit.decodeIds(tensor(value.ids, { shape: [3, 9] })))));
    assert.deepEqual(concat((await Promise.all(decoded.outputs.map(pngChw))).map((p) => p.chw)), expected);
  } finally {
    vit.dispose();
  }
});

test('older tokenizer.json without "image": config.json beside it, else a message saying what to add', () => {
  const old = path.join(work, 'old');
  mkdirSync(old);
  const { image: _image, ...options } = JSON.parse(readFileSync(path.join(tokDir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(old, 'tokenizer.json'), JSON.stringify(options));
  assert.throws(() => readImageSpec(old), /does not record the training image size .*add "image"/);
  writeFileSync(path.join(old, 'config.json'), JSON.stringify({ data: { size: 32, channels: '3' } }));
  assert.deepEqual(readImageSpec(old), { size: 32, channels: 3, fit: 'resize', padValue: 255 });
});

test('errors name the problem: tokenizer dir, images, ids out of range, grid size, file types', async () => {
  const run = (fn: (argv: string[]) => Promise<unknown>, argv: string[]) => quiet(() => fn(argv));
  const out = path.join(work, 'err');
  await assert.rejects(run(encodeCommand, ['--tokenizer', path.join(work, 'nope'), '--input', imgDir, '--out', path.join(out, 'x.json')]),
    /tokenizer directory .*nope does not exist/);
  await assert.rejects(run(encodeCommand, ['--tokenizer', imgDir, '--input', imgDir, '--out', path.join(out, 'x.json')]), /holds no trained tokenizer \(tokenizer\.json is missing\)/);
  await assert.rejects(run(encodeCommand, ['--tokenizer', tokDir, '--input', imgDir, '--out', path.join(out, 'x.txt')]), /--out must name a \.json or \.npy file/);
  await assert.rejects(run(encodeCommand, ['--tokenizer', tokDir, '--out', path.join(out, 'x.json')]), /--input is required/);
  await assert.rejects(run(encodeCommand, ['--tokenizer', tokDir, '--input', path.join(work, 'missing.png'), '--out', path.join(out, 'x.json')]), /missing\.png does not exist/);

  const edited = path.join(work, 'edited');
  mkdirSync(edited);
  const options = JSON.parse(readFileSync(path.join(tokDir, 'tokenizer.json'), 'utf8')) as { codebookSize: number };
  writeFileSync(path.join(edited, 'tokenizer.json'), JSON.stringify({ ...options, codebookSize: 32 }));
  assert.throws(() => Tokenizer.load(edited), /has tokenizer\.json but no tokenizer\.safetensors/);
  writeFileSync(path.join(edited, 'tokenizer.safetensors'), readFileSync(path.join(tokDir, 'tokenizer.safetensors')));
  assert.throws(() => Tokenizer.load(edited), /the weights do not fit the options in tokenizer\.json: .*quantize\.embedding\.weight/s);

  const bad = path.join(work, 'bad');
  mkdirSync(bad);
  writeFileSync(path.join(bad, 'broken.png'), Buffer.from('this is not a PNG'));
  await assert.rejects(run(reconstructCommand, ['--tokenizer', tokDir, '--input', bad, '--out', out]),
    /--input .*bad: none of its 1 images could be read \(.*broken\.png: not a readable image \(its bytes are not PNG, JPEG or WebP\)/);
  await assert.rejects(run(encodeCommand, ['--tokenizer', tokDir, '--input', path.join(bad, 'broken.png'), '--out', path.join(out, 'x.json')]),
    /broken\.png: not a readable image/, 'a single unreadable IMG is an error: nothing else to process');
  writeFileSync(path.join(bad, 'notes.txt'), 'x');
  rmSync(path.join(bad, 'broken.png'));
  await assert.rejects(run(reconstructCommand, ['--tokenizer', tokDir, '--input', bad, '--out', out]), /holds no images/);

  const ids = JSON.parse(readFileSync(path.join(work, 'tokens.json'), 'utf8')) as { ids: number[][]; grid: number[] };
  const write = (name: string, value: unknown) => {
    writeFileSync(path.join(work, name), JSON.stringify(value));
    return path.join(work, name);
  };
  const outOfRange = structuredClone(ids);
  outOfRange.ids[1]![2 * 16 + 3] = 64;
  await assert.rejects(run(decodeCommand, ['--tokenizer', tokDir, '--input', write('range.json', outOfRange), '--out', out]),
    /token id 64 at image 1 \(b\.png\), row 2, column 3 is outside \[0, 64\)/);
  const negative = structuredClone(ids);
  negative.ids[0]![0] = -1;
  await assert.rejects(run(decodeCommand, ['--tokenizer', tokDir, '--input', write('neg.json', negative), '--out', out]), /token id -1 at image 0 \(a\.png\), row 0, column 0/);
  const small = { grid: [8, 8], files: ['a.png'], ids: [Array.from({ length: 64 }, () => 0)] };
  await assert.rejects(run(decodeCommand, ['--tokenizer', tokDir, '--input', write('grid.json', small), '--out', out]),
    /holds 8×8 token grids, but this tokenizer reads and writes 16×16/);
  await assert.rejects(run(decodeCommand, ['--tokenizer', tokDir, '--input', write('short.json', { grid: [16, 16], ids: [[1, 2, 3]] }), '--out', out]),
    /ids\[0\] must hold 16×16 = 256 numbers/);
  const floats = path.join(work, 'floats.npy');
  execFileSync('/usr/bin/python3', ['-c', 'import numpy, sys; numpy.save(sys.argv[1], numpy.zeros((1, 16, 16)))', floats]);
  await assert.rejects(run(decodeCommand, ['--tokenizer', tokDir, '--input', floats, '--out', out]), /holds dtype '<f8'; token ids must be an integer array/);
  await assert.rejects(run(decodeCommand, ['--tokenizer', tokDir, '--input', path.join(work, 'tokens.json'), '--out', out, '--batch', '0']), /--batch takes a positive integer/);
  assert.ok(!existsSync(out), 'nothing is written when the input is rejected');
});

test('a folder with one corrupt image: the others are reconstructed and encoded, one warning counts it; --strict stops naming it', async () => {
  const mixed = path.join(work, 'mixed');
  mkdirSync(mixed);
  for (const file of files) writeFileSync(path.join(mixed, path.basename(file)), readFileSync(file));
  const whole = readFileSync(files[0]!);
  const broken = path.join(mixed, 'broken.png');
  writeFileSync(broken, whole.subarray(0, whole.length >> 1));
  const warning = `robustok: skipped 1 unreadable image of 4 in --input ${mixed} (${broken}); pass --strict to stop at the first instead`;

  const out = path.join(work, 'mixed-recon');
  const recon = await quiet(() => reconstructCommand(['--tokenizer', tokDir, '--input', mixed, '--out', out, '--batch', '2']));
  assert.deepEqual(recon.value.outputs, names.map((n) => path.join(out, n)), 'a, b, c written; broken.png skipped');
  assert.deepEqual(readdirSync(out).sort(), names);
  assert.deepEqual(recon.warnings, [warning]);
  assert.match(recon.out, /^3 images → /m);
  const clean = (await quiet(() => reconstructCommand(['--tokenizer', tokDir, '--input', imgDir, '--out', path.join(work, 'clean-recon'), '--batch', '2']))).value;
  assert.ok(Math.abs(recon.value.psnr - clean.psnr) < 1e-9, 'the same PSNR as without the broken file (same batches: a, b | c)');

  const encoded = await quiet(() => encodeCommand(['--tokenizer', tokDir, '--input', mixed, '--out', path.join(work, 'mixed.json')]));
  assert.deepEqual(encoded.value.files, names.map((n) => path.join(mixed, n)));
  assert.equal(encoded.value.ids.length, 3 * 16 * 16);
  assert.deepEqual(encoded.warnings, [warning]);
  assert.deepEqual((JSON.parse(readFileSync(path.join(work, 'mixed.json'), 'utf8')) as { ids: unknown[] }).ids.length, 3);

  const strictOut = path.join(work, 'mixed-strict');
  await assert.rejects(quiet(() => reconstructCommand(['--tokenizer', tokDir, '--input', mixed, '--out', strictOut, '--strict'])),
    { message: new RegExp(`^${broken}: not a readable image \\(truncated or corrupt PNG\\): `) });
  await assert.rejects(quiet(() => encodeCommand(['--tokenizer', tokDir, '--input', mixed, '--out', path.join(work, 'strict.json'), '--strict'])),
    /broken\.png: not a readable image \(truncated or corrupt PNG\)/);
  assert.ok(!existsSync(path.join(work, 'strict.json')));
  await assert.rejects(quiet(() => decodeCommand(['--tokenizer', tokDir, '--input', path.join(work, 'mixed.json'), '--out', strictOut, '--strict'])),
    /unknown option --strict/, 'decode reads no images');
  for (const usage of [reconstructUsage, encodeUsage]) assert.match(usage, /\[--strict\][^]*skipped with one warning that counts them; --strict stops at the first/);

  const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
  const run = spawnSync(process.execPath, [cli, 'encode', '--tokenizer', tokDir, '--input', mixed, '--out', path.join(work, 'cli.json'), '--strict'],
    { encoding: 'utf8', env: { ...process.env, ROBUSTOK_THREADS: '1' } });
  assert.equal(run.status, 1);
  assert.match(run.stderr, new RegExp(`robustok encode: ${broken}: not a readable image \\(truncated or corrupt PNG\\)`));
});

test('the robustok command runs them: usage in help, errors as one line and exit 1', () => {
  const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
  const run = spawnSync(process.execPath, [cli, 'decode', '--tokenizer', path.join(work, 'nope'), '--input', path.join(work, 'tokens.json'), '--out', path.join(work, 'x')], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /^robustok decode: tokenizer directory .*nope does not exist/);
  const help = spawnSync(process.execPath, [cli, 'help'], { encoding: 'utf8' });
  for (const command of ['reconstruct', 'encode', 'decode']) assert.match(help.stdout, new RegExp(`\\n  ${command} `));
});

test('every preset in configs/tokenizer resolves, and its model fits its image size', () => {
  const found = readdirSync(presets).filter((f) => f.endsWith('.yaml')).sort();
  assert.ok(found.includes('emoji64.yaml') && found.includes('reference.yaml'), found.join(', '));
  for (const file of found) {
    const config = checkTokenizerConfig(resolveConfig(tokenizerSchema, [loadConfigFile(path.join(presets, file))]));
    const grid = tokenGrid(modelOptions(config), config.data.size);
    assert.ok(grid[0] * grid[1] >= 1, file);
  }
  const reference = resolveConfig(tokenizerSchema, [loadConfigFile(path.join(presets, 'reference.yaml'))]);
  // docs/method.md §1–2, §4: ViT-B/16 at 256, 256 tokens (16×16), 4096 × 64 codes, α₀ = 1, β = 0.1, δ₀ = 100, LPIPS weight 1, GAN at 28%, EMA 0.9999.
  assert.deepEqual(tokenGrid(modelOptions(reference), reference.data.size), [16, 16]);
  assert.deepEqual([reference.model.vit.width, reference.model.vit.depth, reference.model.vit.heads, reference.model.vit.patchSize], [768, 12, 12, 16]);
  assert.deepEqual([reference.model.codebookSize, reference.model.codeDim], [4096, 64]);
  assert.deepEqual([reference.perturbation.alpha, reference.perturbation.beta, reference.perturbation.delta], [1, 0.1, 100]);
  assert.deepEqual([reference.loss.perceptual.kind, reference.loss.perceptual.weight], ['lpips', 1]);
  assert.deepEqual([reference.loss.gan.start, reference.optim.lr, reference.train.batchSize, reference.optim.emaDecay], [0.28, 2.4e-4, 1024, 0.9999]);
});
