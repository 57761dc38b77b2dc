// inception-fid against its PyTorch twin (test/inception_ref.py, Debian's
// python3-torch on the same libtorch 1.13). Python draws random weights in
// the FID file's layout and saves them with torch.save; robustok loads that
// file with loadInceptionFid; both compute the same images.
//
// Two levels of agreement:
// - float32, the whole FeatureNetwork (grey 64×64 → channel repeat + resize,
//   RGB 50×70 → non-square resize, 299×299 network):
//   |ours − torch| ≤ 1e-3 + 1e-3·|torch| on features of order 1. That is
//   float32's own noise floor for this network, not slack: PyTorch itself
//   moves features by ~4e-5 between 1 and 2 threads and by ~1.2e-4 from a
//   float64 run (measured), and robustok's gap is the same size (~1e-4).
// - float64, the module alone on a 139×139 input: ≤ 1e-9 + 1e-9·|torch|,
//   where any architectural slip (an eps, a padding, a pool) shows.
// A pooling mistake moves features by ~1, far outside both (checked below
// with torchvision's pooling on the same weights).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FidInceptionV3, type InceptionFid, loadInceptionFid } from '../src/features/inception_fid.js';
import {
  type Tensor, flattenStateDict, liveTensors, loadPt, manualSeed, rand, randn, savePt, saveSafetensors, tensor, tidy,
} from '../src/torch/index.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'inception_ref.py');
const float32Tolerance = { atol: 1e-3, rtol: 1e-3 };
const float64Tolerance = { atol: 1e-9, rtol: 1e-9 };
let dir = '';
let weightsFile = '';
let ref: Record<string, Tensor> = {};
let net: InceptionFid;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-inception-'));
  weightsFile = path.join(dir, 'weights.pth');
  const run = spawnSync('/usr/bin/python3', [script, dir], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2' } });
  if (run.status !== 0) throw new Error(`inception_ref.py failed (is python3-torch installed?):\n${run.stderr}`);
  ref = flattenStateDict(loadPt(path.join(dir, 'ref.pt')));
  net = loadInceptionFid(weightsFile);
});
after(() => {
  net?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

interface Gap {
  maxAbs: number;
  /** Largest |ours − torch| / |torch| over elements with |torch| > 1e-2 (smaller ones are judged by atol). */
  maxRel: number;
  /** Elements outside atol + rtol·|torch|. */
  outside: number;
}

function gap(ours: Tensor, theirs: Tensor, tolerance: { atol: number; rtol: number }): Gap {
  assert.deepEqual(ours.shape, theirs.shape);
  assert.equal(ours.dtype, theirs.dtype);
  return tidy(() => {
    const diff = ours.sub(theirs).abs();
    const size = theirs.abs();
    return {
      maxAbs: diff.max().item(),
      maxRel: diff.div(size.clamp(1e-2)).mul(size.gt(1e-2)).max().item(),
      outside: diff.gt(size.mul(tolerance.rtol).add(tolerance.atol)).sum().item(),
    };
  });
}

const describeGap = (g: Gap): string => `max abs ${g.maxAbs.toExponential(2)}, max rel ${g.maxRel.toExponential(2)}`;

test('float32: features [2, 2048] and logits [2, 1008] match the PyTorch twin for grey 64×64 and RGB 50×70 images', (t) => {
  assert.deepEqual([net.name, net.inputSize, net.featureSize, net.numClasses], ['inception-fid', 299, 2048, 1008]);
  // Each forward at 299×299 costs about a second here: every output is checked on one batch.
  const calls: [string, string, (images: Tensor) => Tensor][] = [
    ['grey', 'features', (x) => net.features(x)],
    ['grey', 'logits', (x) => net.logits(x)],
    ['rgb', 'features', (x) => net.features(x)],
    ['rgb', 'logits_unbiased', (x) => net.logitsUnbiased(x)],
  ];
  for (const [kind, what, call] of calls) {
    const live = liveTensors();
    const ours = call(ref[kind]!);
    assert.equal(liveTensors(), live + 1, 'a call leaves only its result behind');
    assert.equal(ours.requiresGrad, false);
    const g = gap(ours, ref[`${kind}_${what}`]!, float32Tolerance);
    t.diagnostic(`${kind} ${what} [${ours.shape}]: ${describeGap(g)}`);
    assert.equal(g.outside, 0, `${kind} ${what} outside tolerance (${describeGap(g)})`);
    ours.dispose();
  }
});

test("float64: the module matches the twin to 1e-9, and torchvision's pooling on the same weights does not", (t) => {
  const fid = new FidInceptionV3();
  const torchvision = new FidInceptionV3({ pooling: 'torchvision' });
  try {
    fid.loadStateDict(net.model.stateDict());
    torchvision.loadStateDict(net.model.stateDict());
    fid.eval().to('float64');
    torchvision.eval().to('float64');
    tidy(() => {
      const x = ref.f64_input!;
      const features = fid.pooled(x);
      const checks: [string, Tensor, Tensor][] = [
        ['features', features, ref.f64_features!], ['logits', fid.fc.forward(features), ref.f64_logits!],
      ];
      for (const [what, ours, theirs] of checks) {
        const g = gap(ours, theirs, float64Tolerance);
        t.diagnostic(`float64 ${what}: ${describeGap(g)}`);
        assert.equal(g.outside, 0, `float64 ${what} outside tolerance (${describeGap(g)})`);
      }
      const off = gap(torchvision.pooled(x), ref.f64_features!, float32Tolerance);
      t.diagnostic(`torchvision pooling vs the FID twin: ${describeGap(off)}`);
      assert.ok(off.maxAbs > 100 * float32Tolerance.atol, `torchvision pooling moved features by only ${off.maxAbs}`);
    });
  } finally {
    fid.dispose();
    torchvision.dispose();
  }
});

test('loading leaves the global generator where it was; a .safetensors copy loads the same weights', () => {
  manualSeed(5);
  const expected = tidy(() => randn([4]).tolist());
  manualSeed(5);
  const copy = path.join(dir, 'weights.safetensors');
  tidy(() => saveSafetensors(copy, flattenStateDict(loadPt(weightsFile))));
  const fromSafetensors = loadInceptionFid(copy);
  assert.deepEqual(tidy(() => randn([4]).tolist()), expected);
  try {
    const theirs = fromSafetensors.model.stateDict();
    for (const [key, ours] of Object.entries(net.model.stateDict())) {
      assert.ok(tidy(() => ours.eq(theirs[key]!).all().item()), `${key} differs`);
    }
  } finally {
    fromSafetensors.dispose();
  }
});

test('gradients flow to an input that requires grad (perceptual-loss use), and only then', () => {
  tidy(() => {
    const images = rand([1, 1, 16, 16]).mul(2).sub(1).requiresGrad_();
    net.features(images).square().sum().backward();
    const grad = images.grad!;
    assert.ok(grad.isfinite().all().item());
    assert.ok(grad.abs().max().item() > 0);
    assert.equal(net.features(images.detach()).requiresGrad, false);
  });
});

test('wrong or missing weight files give errors that name the expected file and the bad keys', () => {
  assert.throws(() => loadInceptionFid(path.join(dir, 'nope.pth')), /no weights file at .*nope\.pth.*pt_inception-2015-12-05-6726825d\.pth/);

  // One key dropped, one foreign key added: both are named.
  const edited = path.join(dir, 'edited.pth');
  tidy(() => {
    const weights = flattenStateDict(loadPt(weightsFile));
    delete weights['Mixed_7c.branch_pool.bn.running_var'];
    weights['AuxLogits.fc.weight'] = randn([1000, 768]);
    savePt(edited, weights);
  });
  const live = liveTensors();
  assert.throws(() => loadInceptionFid(edited),
    /is not the FID InceptionV3 weights: pytorch-fid's pt_inception-2015-12-05.*missing keys: Mixed_7c\.branch_pool\.bn\.running_var; unexpected keys: AuxLogits\.fc\.weight\./);
  assert.equal(liveTensors(), live, 'a failed load frees what it read and built');

  // torchvision's ImageNet head (1000 classes) is recognised as such.
  const imagenet = path.join(dir, 'imagenet-head.pth');
  tidy(() => savePt(imagenet, { 'fc.weight': randn([1000, 2048]), 'fc.bias': tensor(new Array(1000).fill(0)) }));
  assert.throws(() => loadInceptionFid(imagenet),
    /missing keys: Conv2d_1a_3x3\.conv\.weight, .*\(\d+ in all\); wrong shapes: fc\.weight \[1000,2048\] \(expected \[1008,2048\]\), fc\.bias .*torchvision's ImageNet Inception3/);
});
