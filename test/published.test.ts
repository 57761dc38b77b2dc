// Published tokenizers (src/tokenizer/published.ts) against PyTorch twins of
// their upstream layouts (test/published_ref.py: LlamaGen VQ-16 and VQ-8,
// taming VQGAN f16-1024; tiny widths, the released level structure and
// codebooks), saved with torch.save as upstream saves them: the code ids
// must be equal and the decoded images within 1e-4. Then the named errors
// (missing, truncated, another kind's file), `robustok import` and the
// KIND:PATH resolver; a pixelRange other than robustok's [−1, 1].
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importCommand } from '../src/cli/import.js';
import {
  Tokenizer, latentPerturbation, loadPublished, openTokenizer, parseTokenizerRef, readImageSpec, saveTokenizer, tokenizerImageSpec,
} from '../src/tokenizer/index.js';
import { type Tensor, loadPt, manualSeed, noGrad, rand, tidy } from '../src/torch/index.js';
import { loggedBy } from './helpers/console.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const testSource = path.resolve(here, '..', '..', 'test');
const work = mkdtempSync(path.join(tmpdir(), 'robustok-published-'));
after(() => rmSync(work, { recursive: true, force: true }));

const files = {
  'llamagen-vq16': path.join(work, 'llamagen-vq16.pt'),
  'llamagen-vq8': path.join(work, 'llamagen-vq8.pt'),
  'taming-f16-1024': path.join(work, 'taming-f16-1024.ckpt'),
} as const;

before(() => {
  const run = spawnSync('/usr/bin/python3', [path.join(testSource, 'published_ref.py'), work], { cwd: testSource, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`published_ref.py failed (is python3-torch installed?):\n${run.stderr}`);
});

const values = (t: Tensor): number[] => Array.from(t.toTypedArray() as ArrayLike<number | bigint>, Number);

/** Encode → quantize → decode of the twin's input, compared with the twin's ids and images. */
function checkAgainstTwin(model: Tokenizer, kind: keyof typeof files): void {
  const expected = loadPt(path.join(work, `${kind}.expected.pt`)) as Record<string, Tensor>;
  noGrad(() => tidy(() => {
    const q = model.encode(expected.input!);
    assert.deepEqual(q.idsGrid.shape, expected.ids!.shape);
    assert.deepEqual(values(q.idsGrid), values(expected.ids!), `${kind}: code ids`);
    const diff = model.decode(q.zq).sub(expected.image!).abs().max().item();
    assert.ok(diff <= 1e-4, `${kind}: decoded images differ by ${diff}`);
    assert.ok(new Set(values(q.ids)).size > 1, `${kind}: the twin's input uses more than one code`);
    const fromIds = model.decodeIds(q.idsGrid).sub(expected.image!).abs().max().item();
    assert.ok(fromIds <= 1e-4, `${kind}: decoding the ids differs by ${fromIds}`);
  }));
  for (const t of Object.values(expected)) t.dispose();
}

for (const kind of Object.keys(files) as (keyof typeof files)[]) {
  test(`${kind}: the twin's file loads; code ids equal, images within 1e-4`, () => {
    const { model, image, ignored } = loadPublished(kind, files[kind]);
    try {
      checkAgainstTwin(model, kind);
      assert.deepEqual({ size: image.size, channels: image.channels }, { size: 256, channels: 3 });
      // LlamaGen's usage buffer, taming's loss module (discriminator + LPIPS head): 1 and 3 tensors in the twins
      assert.equal(ignored, kind === 'taming-f16-1024' ? 3 : 1);
    } finally {
      model.dispose();
    }
  });
}

test('taming perturbation draws the δ nearest codes by Euclidean distance: δ = 1 keeps every id', () => {
  const { model } = loadPublished('taming-f16-1024', files['taming-f16-1024']);
  const expected = loadPt(path.join(work, 'taming-f16-1024.expected.pt')) as Record<string, Tensor>;
  try {
    noGrad(() => tidy(() => {
      const q = model.encode(expected.input!);
      const kept = model.perturb(q, { alpha: 1, beta: 1, delta: 1 });
      assert.deepEqual(values(kept.ids), values(q.ids));
      // by cosine, the nearest code of a raw latent is another one for some tokens: the metric matters
      const byCosine = latentPerturbation(q.z, q.zq, model.quantize.embedding.weight, q.ids, { alpha: 1, beta: 1, delta: 1 }, 'cosine');
      assert.notDeepEqual(values(byCosine.ids), values(q.ids));
    }));
  } finally {
    for (const t of Object.values(expected)) t.dispose();
    model.dispose();
  }
});

test('a missing, a truncated and another kind\'s file each give their named error', () => {
  assert.throws(() => loadPublished('llamagen-vq16', path.join(work, 'nope.pt')), /nope\.pt does not exist: llamagen-vq16 reads vq_ds16_c2i\.pt/);
  const truncated = path.join(work, 'truncated.pt');
  const bytes = readFileSync(files['llamagen-vq16']);
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  assert.throws(() => loadPublished('llamagen-vq16', truncated), /truncated\.pt cannot be read as a llamagen-vq16 checkpoint \(is it truncated or damaged/);
  assert.throws(() => loadPublished('taming-f16-1024', files['llamagen-vq16']),
    /does not hold a taming-f16-1024 model .*missing keys, the first 'encoder\.down\.0\.block\.0\.norm1\.weight'.*unexpected keys, the first 'encoder\.conv_blocks\.0\.res\.0\.norm1\.weight'.*looks like llamagen-vq16/);
  assert.throws(() => loadPublished('llamagen-vq16', files['llamagen-vq8']), /is not a llamagen-vq16 checkpoint: it has 4 levels \(downsampling 8\).*looks like llamagen-vq8/);
  assert.throws(() => loadPublished('taming-f16-16384', files['taming-f16-1024']), /1024 codes where taming-f16-16384 has 16384.*looks like taming-f16-1024/);
  assert.throws(() => loadPublished('llamagen-vq32', files['llamagen-vq16']), /unknown tokenizer kind 'llamagen-vq32'; the kinds are llamagen-vq16, llamagen-vq8/);
});

test('a wrong shape is refused before any weight is copied, naming the key', async () => {
  const script = `import torch, sys\nc = torch.load(sys.argv[1])\nc['model']['decoder.conv_out.bias'] = torch.zeros(5)\ntorch.save(c, sys.argv[2])`;
  const bad = path.join(work, 'bad-shape.pt');
  const run = spawnSync('/usr/bin/python3', ['-c', script, files['llamagen-vq16'], bad], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.throws(() => loadPublished('llamagen-vq16', bad), /'decoder\.conv_out\.bias' has shape \[5\] but the llamagen-vq16 model .* needs \[3\]/);
});

test('robustok import writes a tokenizer folder; KIND:PATH and the folder give the same model everywhere', async () => {
  const out = path.join(work, 'imported');
  const logged = await loggedBy(() => importCommand(['--kind', 'llamagen-vq8', '--weights', files['llamagen-vq8'], '--out', out]));
  assert.match(logged, /LlamaGen VQ-8 .*1 training-only tensors left out/);
  assert.deepEqual(readImageSpec(out), { size: 256, channels: 3, fit: 'resize', padValue: 255 });
  assert.equal(JSON.parse(readFileSync(path.join(out, 'tokenizer.json'), 'utf8')).architecture, 'llamagen');
  const ref = `llamagen-vq8:${files['llamagen-vq8']}`;
  assert.deepEqual(parseTokenizerRef(ref), { kind: 'llamagen-vq8', file: files['llamagen-vq8'] });
  assert.deepEqual(tokenizerImageSpec(ref), readImageSpec(out));
  for (const opened of [openTokenizer(ref), openTokenizer(out)]) {
    try {
      checkAgainstTwin(opened.model, 'llamagen-vq8');
    } finally {
      opened.model.dispose();
    }
  }
  assert.throws(() => parseTokenizerRef(`vq99:${out}`), /'vq99' is not a tokenizer kind \(llamagen-vq16, .*\) and vq99:.* is not a folder/);
});

test('pixelRange: the tokenizer feeds its model that range and hands back [−1, 1]; tokenizer.json keeps it', () => {
  manualSeed(3);
  const cnn = { imageChannels: 3, zChannels: 4, baseChannels: 8, channelMultipliers: [1, 2], resBlocks: 1, normGroups: 4 };
  const plain = new Tokenizer({ architecture: 'cnn', cnn, codebookSize: 16, codeDim: 4 });
  const unit = new Tokenizer({ architecture: 'cnn', cnn, codebookSize: 16, codeDim: 4, pixelRange: [0, 1] });
  unit.loadStateDict(plain.stateDict());
  const dir = path.join(work, 'unit-range');
  mkdirSync(dir);
  saveTokenizer(dir, unit, { size: 8, channels: 3, fit: 'resize', padValue: 255 });
  const reloaded = Tokenizer.load(dir);
  try {
    assert.deepEqual(reloaded.options.pixelRange, [0, 1]);
    noGrad(() => tidy(() => {
      const x = rand([2, 3, 8, 8]).mul(2).sub(1);                          // robustok's [−1, 1]
      const q = reloaded.encode(x);
      assert.deepEqual(values(q.ids), values(plain.encode(x.add(1).div(2)).ids), 'the encoder reads (x + 1) / 2');
      const diff = reloaded.decode(q.zq).sub(plain.decode(q.zq).mul(2).sub(1)).abs().max().item();
      assert.ok(diff < 1e-5, `the decoder's [0, 1] output comes back as 2y − 1 (differs by ${diff})`);
    }));
  } finally {
    for (const m of [plain, unit, reloaded]) m.dispose();
  }
  assert.throws(() => new Tokenizer({ architecture: 'cnn', cnn, codebookSize: 16, codeDim: 4, pixelRange: [1, 0] }), /pixelRange must be \[low, high\] with low < high/);
});
