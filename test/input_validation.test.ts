// Files a user hands robustok, damaged or hand-edited: each is
// refused with a message that names the file and what is wrong, instead of a
// JavaScript TypeError from deep inside, or a silent cast. tokenizer.json's
// structure, tokenizer.safetensors' dtypes, and truncated or foreign image
// files. (Config files: config.test.ts; checkpoints: checkpoint.test.ts.)
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadConfigFile, resolveConfig } from '../src/config/index.js';
import { UnreadableImageError, decodeFile } from '../src/data/decode.js';
import { Tokenizer, modelOptions, readImageSpec, saveTokenizer, tokenizerSchema } from '../src/tokenizer/index.js';
import { liveTensors, loadSafetensors, manualSeed, saveSafetensors } from '../src/torch/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = mkdtempSync(path.join(tmpdir(), 'robustok-inputs-'));
after(() => rmSync(work, { recursive: true, force: true }));

const good = path.join(work, 'good');
const spec = { size: 32, channels: 1, fit: 'pad', padValue: 0 } as const;
const fix = 'restore it from the run that wrote it (robustok train-tokenizer), or correct it by hand';

before(() => {
  const config = resolveConfig(tokenizerSchema, [loadConfigFile(path.join(root, 'configs', 'tokenizer', 'tiny.yaml'))]);
  manualSeed(0);
  const model = new Tokenizer(modelOptions(config));
  mkdirSync(good);
  saveTokenizer(good, model, spec);
  model.dispose();
});

/** A tokenizer directory: good's weights, and tokenizer.json as `edit` makes it from good's. */
function tokenizerDir(name: string, edit: (json: Record<string, unknown>) => unknown): { dir: string; file: string } {
  const dir = path.join(work, name);
  mkdirSync(dir);
  const json = JSON.parse(readFileSync(path.join(good, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  const file = path.join(dir, 'tokenizer.json');
  writeFileSync(file, JSON.stringify(edit(json)));
  writeFileSync(path.join(dir, 'tokenizer.safetensors'), readFileSync(path.join(good, 'tokenizer.safetensors')));
  return { dir, file };
}

test('the saved tokenizer loads (the baseline the edits below break)', () => {
  const model = Tokenizer.load(good);
  assert.equal(model.options.architecture, 'cnn');
  model.dispose();
  assert.deepEqual(readImageSpec(good), spec);
});

test('tokenizer.json holding null, or without its cnn key, is refused naming the file and the key', () => {
  const nul = tokenizerDir('null', () => null);
  const nullMessage = `${nul.file}: holds null, not a tokenizer's options (an object with "architecture", "codebookSize", "codeDim", ...) — ${fix}`;
  assert.throws(() => Tokenizer.load(nul.dir), { message: nullMessage });
  assert.throws(() => readImageSpec(nul.dir), { message: nullMessage });
  const noCnn = tokenizerDir('no-cnn', ({ cnn: _, ...json }) => json);
  assert.throws(() => Tokenizer.load(noCnn.dir), { message: `${noCnn.file}: missing 'cnn' (the CNN's options) — ${fix}` });
  assert.throws(() => readImageSpec(noCnn.dir), /no-cnn\/tokenizer\.json: missing 'cnn'/);
});

test('tokenizer.json: every key a model needs is checked for presence and kind', () => {
  const cases: [string, (json: Record<string, unknown>) => unknown, RegExp][] = [
    ['list', () => [1, 2], /holds a list \[1,2\], not a tokenizer's options/],
    ['no-arch', ({ architecture: _, ...json }) => json, /missing 'architecture' \('cnn', 'llamagen', 'vit' or 'robustok-vit'\)/],
    ['rnn', (json) => ({ ...json, architecture: 'rnn' }), /'architecture' must be 'cnn', 'llamagen', 'vit' or 'robustok-vit', got "rnn"/],
    ['no-k', ({ codebookSize: _, ...json }) => json, /missing 'codebookSize' \(K, the number of codes\)/],
    ['dim', (json) => ({ ...json, codeDim: 0 }), /'codeDim' \(D, the width of a code\) must be a positive integer, got 0/],
    ['cnn-str', (json) => ({ ...json, cnn: 'small' }), /'cnn' \(the CNN's options\) must be an object, got "small"/],
    ['z', (json) => ({ ...json, cnn: { ...(json.cnn as object), zChannels: '8' } }), /'cnn\.zChannels' \(channels of the latent map\) must be a positive integer, got "8"/],
    ['mult', (json) => ({ ...json, cnn: { ...(json.cnn as object), channelMultipliers: [] } }), /'cnn\.channelMultipliers' .* must be a list of positive integers, got a list \[\]/],
    ['no-vit', (json) => ({ ...json, architecture: 'vit' }), /missing 'vit' \(the ViT's options\)/],
    ['image', (json) => ({ ...json, image: { ...(json.image as object), channels: 2 } }), /'image': preprocess channels must be 1 or 3, got 2 — it should read \{ "size": S/],
  ];
  for (const [name, edit, expected] of cases) {
    const { dir, file } = tokenizerDir(`edit-${name}`, edit);
    assert.throws(() => Tokenizer.load(dir), (error: Error) => {
      assert.ok(error.message.startsWith(`${file}: `), `${name}: names the file: ${error.message}`);
      assert.match(error.message, expected, name);
      return true;
    });
  }
});

test('integer weights in tokenizer.safetensors are refused naming the file, the tensor and its dtype; other floats load', () => {
  const live = liveTensors();
  const { tensors } = loadSafetensors(path.join(good, 'tokenizer.safetensors'));
  const write = (name: string, dtype: 'int64' | 'int32' | 'float64') => {
    const dir = path.join(work, name);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'tokenizer.json'), readFileSync(path.join(good, 'tokenizer.json')));
    const cast = tensors['quantize.embedding.weight']!.to(dtype);
    saveSafetensors(path.join(dir, 'tokenizer.safetensors'), { ...tensors, 'quantize.embedding.weight': cast });
    cast.dispose();
    return dir;
  };
  const ints = write('int-weights', 'int64');
  assert.throws(() => Tokenizer.load(ints), {
    message: `${path.join(ints, 'tokenizer.safetensors')}: tensor 'quantize.embedding.weight' has dtype int64, but a tokenizer's weights are all ` +
      'floating point (an integer copy would be cast silently and give a broken model) — export the weights as float32 (or float16/bfloat16)',
  });
  assert.throws(() => Tokenizer.load(write('int32-weights', 'int32')), /'quantize\.embedding\.weight' has dtype int32/);
  const doubles = Tokenizer.load(write('double-weights', 'float64'));  // a float dtype is cast, as PyTorch's load_state_dict does
  assert.equal(doubles.quantize.embedding.weight.dtype, 'float32');
  doubles.dispose();
  for (const t of Object.values(tensors)) t.dispose();
  assert.equal(liveTensors(), live, 'a refused file leaves no tensors behind');
});

test('a truncated PNG is "not a readable image (truncated or corrupt PNG)", naming the file; empty and foreign files say so', async () => {
  const png = await sharp(Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 37) % 251)), { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
  const cases: [string, Buffer, RegExp][] = [
    ['cut.png', png.subarray(0, png.length >> 1), /: not a readable image \(truncated or corrupt PNG\): \S/],
    ['header-only.png', png.subarray(0, 20), /: not a readable image \(truncated or corrupt PNG\): \S/],
    ['cut.jpg', (await sharp(png).jpeg().toBuffer()).subarray(0, 100), /: not a readable image \(truncated or corrupt JPEG\): \S/],
    ['empty.png', Buffer.alloc(0), /: not a readable image \(the file is empty\): \S/],
    ['notes.png', Buffer.from('these are my notes'), /: not a readable image \(its bytes are not PNG, JPEG or WebP\): \S/],
  ];
  for (const [name, bytes, expected] of cases) {
    const file = path.join(work, name);
    writeFileSync(file, bytes);
    await assert.rejects(decodeFile(file), (error: Error) => {
      assert.ok(error instanceof UnreadableImageError, name);
      assert.ok(error.message.startsWith(`${file}: `), `${name}: names the file: ${error.message}`);
      assert.match(error.message, expected, name);
      return true;
    });
  }
  const whole = path.join(work, 'whole.png');
  writeFileSync(whole, png);
  assert.deepEqual([(await decodeFile(whole)).width, (await decodeFile(whole)).channels], [64, 3]);
});
