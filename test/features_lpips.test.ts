// LPIPS-VGG (src/features/lpips.ts, vgg16.ts) against a PyTorch reference
// (test/lpips_ref.py under Debian's python3-torch): full-width VGG16 with
// random weights from a fixed seed, distances and input gradients on RGB
// 64×64 and grey 32×32 pairs; the weight-file layouts loadLpips accepts; and
// errors that name the file and the missing keys.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Lpips, loadLpips } from '../src/features/lpips.js';
import { vgg16Taps } from '../src/features/vgg16.js';
import { type Tensor, flattenStateDict, grad, liveTensors, loadPt, savePt, tidy, zeros } from '../src/torch/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-lpips-'));
const file = (name: string) => path.join(dir, name);
let io: Record<string, Tensor> = {};
let lpips: Lpips;

before(() => {
  execFileSync('/usr/bin/python3', [path.join(root, 'test', 'lpips_ref.py'), dir], { env: { ...process.env, OMP_NUM_THREADS: '1' } });
  io = flattenStateDict(loadPt(file('io.pth')));
  for (const t of Object.values(io)) t.keep();
  lpips = loadLpips({ vgg: file('vgg.pth'), lin: file('lin.pth') });
});

after(() => {
  lpips.dispose();
  for (const t of Object.values(io)) t.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Largest |ours − ref| and whether every element is within atol + rtol·|ref|. */
function compare(ours: Tensor, ref: Tensor, rtol: number, atol: number): { maxAbs: number; ok: boolean } {
  assert.deepEqual(ours.shape, ref.shape);
  const a = ours.detach().toTypedArray() as Float32Array;
  const b = ref.toTypedArray() as Float32Array;
  let maxAbs = 0;
  let ok = true;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - b[i]!);
    maxAbs = Math.max(maxAbs, err);
    if (!(err <= atol + rtol * Math.abs(b[i]!))) ok = false;
  }
  return { maxAbs, ok };
}

/** Distances `[B]` and the gradients of their sum w.r.t. both inputs. */
function run(model: Lpips, x0: Tensor, x1: Tensor): { d: Tensor; g0: Tensor; g1: Tensor } {
  const a = x0.clone().requiresGrad_(true);
  const b = x1.clone().requiresGrad_(true);
  const d = model.forward(a, b);
  const [g0, g1] = grad(d.sum(), [a, b]);
  return { d, g0: g0!, g1: g1! };
}

// Values: float32 through the same libtorch kernels, so only summation order
// (kernel choice, thread count) can differ. Gradients: each element sums many
// paths through 13 convolutions; elements near zero get an absolute floor of
// 1e-5 of the largest. Measured here: distances equal to 1e-9, gradients to
// about 1e-6 of the largest.
const valueTol = { rtol: 1e-5, atol: 1e-8 };
const gradRtol = 1e-4;

for (const kind of ['rgb', 'grey'] as const) {
  test(`LPIPS matches the PyTorch reference on ${kind} images: distance [B] and gradients w.r.t. both inputs`, (t) => {
    tidy(() => {
      const { d, g0, g1 } = run(lpips, io[`${kind}0`]!, io[`${kind}1`]!);
      assert.deepEqual(d.shape, [2]);
      const dv = compare(d, io[`${kind}_d`]!, valueTol.rtol, valueTol.atol);
      const scale = io[`${kind}_g0`]!.abs().max().item();
      const e0 = compare(g0, io[`${kind}_g0`]!, gradRtol, 1e-5 * scale);
      const e1 = compare(g1, io[`${kind}_g1`]!, gradRtol, 1e-5 * scale);
      t.diagnostic(`${kind}: d = [${Array.from(d.toTypedArray() as Float32Array).map((v) => v.toPrecision(6))}], ` +
        `max |Δd| ${dv.maxAbs.toExponential(2)}, max |Δgrad| ${e0.maxAbs.toExponential(2)} / ${e1.maxAbs.toExponential(2)} (largest grad ${scale.toExponential(2)})`);
      assert.ok(dv.ok, `distance off by ${dv.maxAbs}`);
      assert.ok(e0.ok && e1.ok, `gradients off by ${e0.maxAbs}, ${e1.maxAbs}`);
      // The pair differs, so a zero distance or gradient would mean a dead computation.
      assert.ok(d.min().item() > 0 && scale > 0);
    });
  });
}

test('the weights stay frozen: no parameter requires or receives a gradient', () => {
  tidy(() => {
    assert.ok(lpips.parameters().length === 13 * 2 + vgg16Taps.length);
    assert.ok(lpips.parameters().every((p) => !p.requiresGrad));
    const x0 = io.grey0!.clone().requiresGrad_(true);
    lpips.forward(x0, io.grey1!).sum().backward();
    assert.ok(x0.grad !== null, 'the input gets a gradient');
    assert.ok(lpips.parameters().every((p) => p.grad === null));
  });
});

test('one combined LPIPS checkpoint (taming-style, nested under state_dict and prefixed) gives the same distances', () => {
  const combined = loadLpips({ vgg: file('combined.pth'), lin: file('combined.pth') });
  try {
    tidy(() => {
      const a = lpips.forward(io.rgb0!, io.rgb1!).toTypedArray() as Float32Array;
      const b = combined.forward(io.rgb0!, io.rgb1!).toTypedArray() as Float32Array;
      assert.deepEqual(Array.from(b), Array.from(a));
    });
  } finally {
    combined.dispose();
  }
});

test('missing weights: the error names the file and every missing key', () => {
  const live = liveTensors();
  tidy(() => {
    const vgg = flattenStateDict(loadPt(file('vgg.pth')));
    delete vgg['features.12.weight'];
    delete vgg['features.12.bias'];
    savePt(file('vgg-missing.pth'), vgg);
    const lin = flattenStateDict(loadPt(file('lin.pth')));
    delete lin['lin3.model.1.weight'];
    savePt(file('lin-missing.pth'), lin);
    savePt(file('lin-wrong.pth'), { ...lin, 'lin3.model.1.weight': zeros([1, 64, 1, 1]) });
  });
  assert.throws(() => loadLpips({ vgg: file('vgg-missing.pth'), lin: file('lin.pth') }),
    (e: Error) => e.message.includes(file('vgg-missing.pth')) && /lacks VGG16 weights features\.12\.weight, features\.12\.bias/.test(e.message));
  assert.throws(() => loadLpips({ vgg: file('vgg.pth'), lin: file('lin-missing.pth') }),
    (e: Error) => e.message.includes(file('lin-missing.pth')) && /lacks LPIPS head weights lin3\.model\.1\.weight/.test(e.message));
  assert.throws(() => loadLpips({ vgg: file('vgg.pth'), lin: file('lin-wrong.pth') }),
    /lin3\.model\.1\.weight has shape \[1,64,1,1\], expected \[1,512,1,1\]/);
  assert.throws(() => loadLpips({ vgg: file('lin.pth'), lin: file('lin.pth') }),
    (e: Error) => e.message.includes(file('lin.pth')) && /holds no VGG16 weights/.test(e.message) && /lin0\.model\.1\.weight/.test(e.message));
  assert.throws(() => loadLpips({ vgg: file('nowhere.pth'), lin: file('lin.pth') }), /LPIPS VGG16 weights file .*nowhere\.pth does not exist/);
  assert.equal(liveTensors(), live, 'failed loads free what they read');
});

test('inputs: mismatched shapes, wrong channels and images below 16×16 are refused by name', () => {
  tidy(() => {
    assert.throws(() => lpips.forward(zeros([1, 3, 32, 32]), zeros([1, 3, 32, 16])), /one shape/);
    assert.throws(() => lpips.forward(zeros([1, 2, 32, 32]), zeros([1, 2, 32, 32])), /\[B, 1 or 3, H, W\]/);
    assert.throws(() => lpips.forward(zeros([1, 3, 8, 8]), zeros([1, 3, 8, 8])), /at least 16×16/);
  });
});
