// The RobusTok release's ViT tokenizer (src/architectures/robustok_vit.ts, kind
// `robustok` of published.ts) against its PyTorch twin
// (test/published_robustok_ref.py: upstream's module structure and names,
// the release's geometry, tiny width and depth), saved as upstream's trainer
// saves it (model, ema, optimizers, an argparse Namespace of arguments): the
// code ids must be equal and the decoded images within 1e-4. Then `robustok
// import`, the KIND:PATH resolver and the named errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importCommand } from '../src/cli/import.js';
import { type Tokenizer, loadPublished, openTokenizer, readImageSpec, tokenizerImageSpec } from '../src/tokenizer/index.js';
import { type Tensor, loadPt, noGrad, tidy } from '../src/torch/index.js';
import { loggedBy } from './helpers/console.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const testSource = path.resolve(here, '..', '..', 'test');
const work = mkdtempSync(path.join(tmpdir(), 'robustok-published-vit-'));
after(() => rmSync(work, { recursive: true, force: true }));
const file = path.join(work, 'robustok.pt');

const python = (args: string[]): void => {
  const run = spawnSync('/usr/bin/python3', args, { cwd: testSource, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3 ${args[0]} failed (is python3-torch installed?):\n${run.stderr}`);
};

before(() => python([path.join(testSource, 'published_robustok_ref.py'), work]));

const values = (t: Tensor): number[] => Array.from(t.toTypedArray() as ArrayLike<number | bigint>, Number);

/** Encode → quantize → decode of the twin's input against the twin's ids (as the 16×16 grid) and images. */
function checkAgainstTwin(model: Tokenizer, what: string): void {
  const expected = loadPt(path.join(work, 'robustok.expected.pt')) as Record<string, Tensor>;
  try {
    noGrad(() => tidy(() => {
      const q = model.encode(expected.input!);
      assert.deepEqual(q.idsGrid.shape, [2, 16, 16], `${what}: the latent tokens are read out as a 16×16 grid`);
      assert.deepEqual(values(q.idsGrid), values(expected.ids!), `${what}: code ids`);
      assert.ok(new Set(values(q.ids)).size > 1, `${what}: the twin's input uses more than one code`);
      const diff = model.decode(q.zq).sub(expected.image!).abs().max().item();
      assert.ok(diff <= 1e-4, `${what}: decoded images differ by ${diff}`);
      const fromIds = model.decodeIds(q.idsGrid).sub(expected.image!).abs().max().item();
      assert.ok(fromIds <= 1e-4, `${what}: decoding the ids differs by ${fromIds}`);
    }));
  } finally {
    for (const t of Object.values(expected)) t.dispose();
  }
}

test("robustok: the twin's checkpoint (ema preferred) loads; ids equal, images within 1e-4", () => {
  const { model, image, ignored } = loadPublished('robustok', file);
  const expected = loadPt(path.join(work, 'robustok.expected.pt')) as Record<string, Tensor>;
  try {
    checkAgainstTwin(model, 'robustok');
    assert.deepEqual(image, { size: 256, channels: 3, fit: 'resize', padValue: 255 });
    assert.equal(model.options.architecture, 'robustok-vit');
    // the frozen DINOv2 / CLIP guides and the usage EMA are left out
    assert.equal(ignored, expected.training_only!.item());
  } finally {
    for (const t of Object.values(expected)) t.dispose();
    model.dispose();
  }
});

test('robustok import writes a tokenizer folder; KIND:PATH and the folder give the twin\'s outputs', async () => {
  const out = path.join(work, 'imported');
  const logged = await loggedBy(() => importCommand(['--kind', 'robustok', '--weights', file, '--out', out]));
  assert.match(logged, /RobusTok .*training-only tensors left out.*images 256×256, 3 channels/);
  assert.equal(JSON.parse(readFileSync(path.join(out, 'tokenizer.json'), 'utf8')).architecture, 'robustok-vit');
  assert.deepEqual(readImageSpec(out), tokenizerImageSpec(`robustok:${file}`));
  for (const [what, ref] of [['KIND:PATH', `robustok:${file}`], ['folder', out]] as const) {
    const opened = openTokenizer(ref);
    try {
      checkAgainstTwin(opened.model, what);
    } finally {
      opened.model.dispose();
    }
  }
});

test("robustok: another kind's file, a file of another kind, and edited token levels each give their named error", () => {
  assert.throws(() => loadPublished('taming-f16-1024', file),
    /does not hold a taming-f16-1024 model .*missing keys, the first 'encoder\.conv_in\.weight'.*looks like robustok/);
  const edited = path.join(work, 'edited.pt');
  const codes = path.join(work, 'codes.pt');
  python(['-c', [
    'import torch, sys',
    'c = torch.load(sys.argv[1])',
    "c['ema']['decoder.lvl1LC'][0, 3] = 1",
    'torch.save(c, sys.argv[2])',
    "c['ema']['quantize.embedding.weight'] = c['ema']['quantize.embedding.weight'][:1024]",
    'torch.save(c, sys.argv[3])',
  ].join('\n'), file, edited, codes]);
  assert.throws(() => loadPublished('robustok', edited), /'decoder\.lvl1LC' \(the token levels\) does not match .*the file: 258 of 514 tokens latent; the model: 257 of 514/);
  assert.throws(() => loadPublished('robustok', codes), /is not a robustok checkpoint: it has 1024 codes where robustok has 4096/);
});
