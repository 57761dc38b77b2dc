// Optimizer plumbing without PyTorch: checkpoints (save, load into fresh
// objects, continue: bit-identical to an uninterrupted run), the state-dict
// layout, clear errors for bad inputs and mismatched checkpoints, the
// no-decay split, schedules as functions of the step, EMA against its closed
// form, gradient accumulation, and flat live-tensor counts. Trajectories
// against torch.optim are in parity_optim.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AdamW, Ema, GradAccumulator, type Optimizer, SGD, Scheduler, type Stateful, type TrainState,
  clipGradNorm, constantLr, decayGroups, epochwise, warmupCosine,
} from '../src/optim/index.js';
import { type Tensor, liveTensors, tensor, tidy, zeros } from '../src/torch/index.js';

/** Fixed values, float32-exact. */
const values = (n: number, seed: number, scale = 1): number[] =>
  Array.from({ length: n }, (_, i) => Math.fround(Math.sin(seed * 12.9898 + i * 78.233) * scale));
const bits = (t: Tensor): number[] => Array.from(t.toTypedArray() as Float32Array);
/** Learning rates: double arithmetic, equal up to the last bits. */
const assertLrs = (actual: number[], expected: number[]): void =>
  assert.ok(actual.length === expected.length && actual.every((a, i) => Math.abs(a - expected[i]!) <= 1e-15),
    `[${actual.join(', ')}] vs [${expected.join(', ')}]`);
const param = (shape: number[], seed: number): Tensor =>
  tensor(values(shape.reduce((a, b) => a * b, 1), seed, 0.5), { shape }).requiresGrad_();

/** A fixed regression loss on micro-batch `k` (the same data in every run). */
function backwardOn(k: number, w: Tensor, b: Tensor): Tensor {
  const x = tensor(values(8, 100 + k), { shape: [2, 4] });
  const y = tensor(values(6, 200 + k), { shape: [2, 3] });
  return x.matmul(w).add(b).sub(y).pow(2).mean();
}

/** What a checkpoint file would hold: copies of the tensors, meta through JSON. */
function save(objects: Stateful[]): TrainState[] {
  return objects.map((o) => {
    const { tensors, meta } = o.stateDict();
    return {
      tensors: Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, tidy(() => t.detach().clone().keep())])),
      meta: JSON.parse(JSON.stringify(meta)) as Record<string, unknown>,
    };
  });
}
const disposeStates = (states: TrainState[]): void => states.forEach((s) => Object.values(s.tensors).forEach((t) => t.dispose()));

interface Rig {
  w: Tensor;
  b: Tensor;
  count: Tensor;
  optimizer: Optimizer<{ lr: number }>;
  scheduler: Scheduler;
  ema: Ema;
  accumulator: GradAccumulator;
  parts: Stateful[];
}

type Kind = 'AdamW' | 'SGD';
/** A training set-up; `fresh` builds it the way a resumed run would, with default hyper-parameters that the checkpoint must override. */
function rig(kind: Kind, w: Tensor, b: Tensor, count: Tensor, fresh: boolean): Rig {
  const optimizer = kind === 'AdamW'
    ? new AdamW(fresh ? [{ params: [w] }, { params: [b] }]
      : [{ params: [w], lr: 0.05, weightDecay: 0.1, betas: [0.8, 0.99] }, { params: [b], lr: 0.02, weightDecay: 0 }])
    : new SGD(fresh ? [{ params: [w] }, { params: [b] }]
      : [{ params: [w], lr: 0.05, weightDecay: 0.01 }, { params: [b], lr: 0.02 }], fresh ? {} : { momentum: 0.9, nesterov: true });
  const scheduler = new Scheduler(optimizer, (lr) => warmupCosine({ lr, lrMin: 1e-3, warmupSteps: 3, totalSteps: 12, warmupStartFactor: 0.2 }));
  const ema = new Ema([['w', w], ['b', b], ['count', count]], { decay: fresh ? 0.5 : 0.9 });
  const accumulator = new GradAccumulator(2);
  return { w, b, count, optimizer, scheduler, ema, accumulator, parts: [optimizer, scheduler, ema, accumulator] };
}

/** Optimizer steps `from` … `to` − 1, two micro-batches each, with clipping, schedule and EMA. */
function train(r: Rig, from: number, to: number): void {
  for (let step = from; step < to; step++) {
    for (let micro = 0; micro < 2; micro++) {
      tidy(() => {
        if (!r.accumulator.backward(backwardOn(2 * step + micro, r.w, r.b))) return;
        clipGradNorm([r.w, r.b], 0.3);
        r.optimizer.step();
        r.optimizer.zeroGrad();
        r.scheduler.step();
        r.count.add_(1);
        r.ema.update();
      });
    }
  }
}

function snapshot(r: Rig): Record<string, unknown> {
  const ema = r.ema.stateDict().tensors;
  return {
    w: bits(r.w), b: bits(r.b), emaW: bits(ema.w!), emaB: bits(ema.b!), emaCount: ema.count!.item(), lrs: r.scheduler.lrs,
    optimizer: Object.fromEntries(Object.entries(r.optimizer.stateDict().tensors).map(([k, t]) => [k, bits(t)])),
  };
}
const disposeRig = (r: Rig): void => {
  r.optimizer.dispose();
  r.ema.dispose();
  for (const t of [r.w, r.b, r.count]) t.dispose();
};

for (const kind of ['AdamW', 'SGD'] as const) {
  test(`${kind}: save at step 6, load into fresh objects, continue to 12: bit-identical to an uninterrupted run`, () => {
    const before = liveTensors();
    const whole = rig(kind, param([4, 3], 1), param([3], 2), zeros([], { dtype: 'int64' }), false);
    train(whole, 0, 6);
    const saved = save(whole.parts);
    const savedWeights = [whole.w, whole.b, whole.count].map((t) => tidy(() => t.detach().clone().keep()));
    train(whole, 6, 12);

    const [w, b, count] = savedWeights.map((t) => (t.dtype === 'int64' ? t : t.requiresGrad_())) as [Tensor, Tensor, Tensor];
    const resumed = rig(kind, w, b, count, true);
    resumed.parts.forEach((p, i) => p.loadStateDict(saved[i]!));
    disposeStates(saved);
    train(resumed, 6, 12);

    assert.deepEqual(snapshot(resumed), snapshot(whole));
    assert.notDeepEqual(bits(whole.w), values(12, 1, 0.5), 'the run moved the weights');
    disposeRig(whole);
    disposeRig(resumed);
    assert.equal(liveTensors(), before, 'no tensor leaked');
  });
}

test('state dict layout follows torch.optim: state.<i>.<name>, per-parameter steps, hyper-parameters per group', () => {
  const [w, b, unused] = [param([4, 3], 1), param([3], 2), param([3], 3)];
  const adamw = new AdamW([{ params: [w, unused], lr: 0.1 }, { params: [b], weightDecay: 0 }]);
  assert.deepEqual(adamw.stateDict().tensors, {}, 'state is created at the first update');
  tidy(() => backwardOn(0, w, b).backward());
  const frozen = bits(unused);
  adamw.step();
  const { tensors, meta } = adamw.stateDict();
  assert.deepEqual(Object.keys(tensors).sort(), ['state.0.exp_avg', 'state.0.exp_avg_sq', 'state.2.exp_avg', 'state.2.exp_avg_sq']);
  assert.deepEqual(meta, {
    kind: 'AdamW', steps: [1, 0, 1],
    groups: [{ lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, params: [0, 1] },
      { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, params: [2] }],
  });
  assert.deepEqual(bits(unused), frozen, 'a parameter without a gradient is not touched (no weight decay either)');
  assert.equal(tensors['state.0.exp_avg'], adamw.stateDict().tensors['state.0.exp_avg'], 'the optimizer\'s own tensors, not copies');
  adamw.zeroGrad();
  assert.equal(w.grad, null);
  adamw.dispose();
  for (const t of [w, b, unused]) t.dispose();
});

test('bad constructor arguments fail with a message naming the problem', () => {
  const [w, b] = [param([2, 2], 1), param([2], 2)];
  const cases: [() => unknown, RegExp][] = [
    [() => new AdamW([]), /AdamW: got an empty parameter list/],
    [() => new SGD([{ params: [] }]), /SGD: got an empty parameter list/],
    [() => new AdamW([w], { lr: -0.1 }), /parameter group 0: lr must be a number ≥ 0, got -0\.1/],
    [() => new SGD([{ params: [w] }, { params: [b], lr: -1 }]), /SGD: parameter group 1: lr must be a number ≥ 0, got -1/],
    [() => new AdamW([{ params: [w], weight_decay: 0.1 } as never]), /parameter group 0 has unknown key 'weight_decay' \(known: params, lr, betas, eps, weightDecay\)/],
    [() => new AdamW([w], { momentum: 0.9 } as never), /AdamW: unknown option 'momentum'/],
    [() => new AdamW([w], { betas: [0.9, 1] }), /betas\[1\] must be in \[0, 1\), got 1/],
    [() => new AdamW([w, w]), /a parameter appears more than once/],
    [() => new AdamW([{ params: [w] }, { params: [w] }]), /a parameter appears more than once/],
    [() => new AdamW([w.mul(2)]), /can't optimize a non-leaf Tensor/],
    [() => new AdamW([{ lr: 0.1 } as never]), /parameter group 0 has no params array/],
    [() => new AdamW(w as never), /params must be an array/],
    [() => new SGD([w], { nesterov: true }), /Nesterov momentum requires a momentum > 0 and zero dampening/],
    [() => new SGD([w], { momentum: 0.9, dampening: 0.1, nesterov: true }), /Nesterov momentum requires/],
    [() => decayGroups([['w', w]], -1), /weightDecay must be a number ≥ 0/],
    [() => warmupCosine({ lr: 0.1, warmupSteps: 10, totalSteps: 10 }), /totalSteps must be an integer above warmupSteps \(10\)/],
    [() => warmupCosine({ lr: 0.1, lrMin: 0.2, totalSteps: 10 }), /lrMin 0\.2 is above lr 0\.1/],
    [() => constantLr(-1), /lr must be a finite number ≥ 0/],
    [() => constantLr(0.1).lrAt(-1), /step must be a non-negative integer, got -1/],
    [() => epochwise(constantLr(0.1), 0), /stepsPerEpoch must be a positive integer/],
    [() => clipGradNorm([w], -1), /maxNorm must be a number ≥ 0/],
    [() => new Ema([]), /Ema: got no tensors/],
    [() => new Ema([['a', w], ['a', b]]), /the name 'a' appears twice/],
    [() => new Ema([['w', w]], { decay: 1.5 }), /decay must be in \[0, 1\]/],
    [() => new GradAccumulator(0), /k must be a positive integer/],
  ];
  for (const [make, message] of cases) tidy(() => assert.throws(make, message));
  w.dispose();
  b.dispose();
});

test('mismatched checkpoints are refused before anything changes, naming the mismatch', () => {
  const [w, b] = [param([4, 3], 1), param([3], 2)];
  const adamw = new AdamW([{ params: [w] }, { params: [b] }]);
  tidy(() => backwardOn(0, w, b).backward());
  adamw.step();
  const good = adamw.stateDict();
  const before = JSON.stringify(good.meta);
  const edit = (f: (s: TrainState) => void): TrainState => {
    const s: TrainState = { tensors: { ...good.tensors }, meta: JSON.parse(JSON.stringify(good.meta)) as Record<string, unknown> };
    f(s);
    return s;
  };
  const wrongShape = zeros([3, 4]);
  const sgd = new SGD([w], { momentum: 0.9 });
  const cases: [TrainState, RegExp][] = [
    [sgd.stateDict(), /AdamW\.loadStateDict: the state was saved by SGD, not AdamW/],
    [edit((s) => { s.tensors['state.0.exp_avg'] = wrongShape; }), /'state\.0\.exp_avg' has shape \[3,4\], expected \[4,3\]/],
    [edit((s) => { s.tensors['state.9.exp_avg'] = wrongShape; }), /unexpected tensor 'state\.9\.exp_avg'/],
    [edit((s) => { delete s.tensors['state.1.exp_avg_sq']; }), /missing tensor 'state\.1\.exp_avg_sq'/],
    [edit((s) => { (s.meta.groups as unknown[]).pop(); }), /the state has 1 parameter groups, this optimizer 2/],
    [edit((s) => { (s.meta.groups as { params: number[] }[])[1]!.params.push(2); }), /group 1 has \[1,2\] as params, this optimizer's has 1 parameters/],
    [edit((s) => { (s.meta.groups as { lr: number }[])[0]!.lr = -1; }), /group 0: lr must be a number ≥ 0, got -1/],
    [edit((s) => { (s.meta.groups as Record<string, unknown>[])[0]!.momentum = 0.9; }), /group 0 has keys .*momentum.*, expected betas,eps,lr,weightDecay/],
    [edit((s) => { s.meta.steps = [1]; }), /meta\.steps must list 2 non-negative integers, got \[1\]/],
    [{ tensors: {}, meta: undefined } as never, /expected an object \{tensors, meta\}/],
  ];
  for (const [state, message] of cases) assert.throws(() => adamw.loadStateDict(state), message);
  assert.equal(JSON.stringify(adamw.stateDict().meta), before, 'nothing changed');

  const ema = new Ema([['w', w]]);
  assert.throws(() => ema.loadStateDict({ tensors: { v: w }, meta: { kind: 'Ema', decay: 0.9, warmup: true, updates: 0 } }),
    /Ema\.loadStateDict: unexpected tensor 'v'; missing tensor 'w'/);
  assert.throws(() => ema.loadStateDict({ tensors: { w }, meta: { kind: 'Ema', decay: 0.9, warmup: true, updates: -1 } }),
    /meta\.updates must be a non-negative integer, got -1/);
  const scheduler = new Scheduler(adamw, constantLr(0.1));
  assert.throws(() => scheduler.loadStateDict({ tensors: {}, meta: { kind: 'Scheduler', step: 3, baseLrs: [0.1] } }),
    /Scheduler\.loadStateDict: meta\.baseLrs must list 2 rates/);
  assert.throws(() => new GradAccumulator(4).loadStateDict(new GradAccumulator(2).stateDict()), /accumulates over k = 2, this one over 4/);
  for (const o of [adamw, sgd, ema]) o.dispose();
  for (const t of [w, b, wrongShape]) t.dispose();
});

test('decayGroups: no decay for tensors with ndim < 2 (biases, norm gains), frozen tensors left out', () => {
  const t = (shape: number[], requiresGrad = true): Tensor => zeros(shape).requiresGrad_(requiresGrad);
  const named: [string, Tensor][] = [['conv.weight', t([4, 3, 3, 3])], ['conv.bias', t([4])], ['norm.weight', t([4])],
    ['embed.weight', t([10, 4])], ['scale', t([])], ['pos', t([5, 4], false)]];
  const [decayed, rest] = decayGroups(named, 0.05);
  const byName = new Map(named.map(([n, x]) => [x, n]));
  assert.deepEqual({ ...decayed!, params: decayed!.params.map((p) => byName.get(p)) }, { params: ['conv.weight', 'embed.weight'], weightDecay: 0.05 });
  assert.deepEqual({ ...rest!, params: rest!.params.map((p) => byName.get(p)) }, { params: ['conv.bias', 'norm.weight', 'scale'], weightDecay: 0 });
  assert.deepEqual(decayGroups([['w', named[0]![1]]], 0.1)[1], { params: [], weightDecay: 0 }, 'both groups always exist');
  for (const [, x] of named) x.dispose();
});

test('schedules are pure functions of the step: warm-up, peak, cosine, floor, epochs', () => {
  const s = warmupCosine({ lr: 0.1, lrMin: 0.01, warmupSteps: 4, totalSteps: 14 });
  assertLrs([0, 1, 2, 3, 4].map((i) => s.lrAt(i)), [0, 0.025, 0.05, 0.075, 0.1]);
  assertLrs([s.lrAt(9)], [0.055]);  // half-way down the cosine: the mid-point of lr and lrMin
  assertLrs([14, 15, 1000].map((i) => s.lrAt(i)), [0.01, 0.01, 0.01]);  // the floor holds after totalSteps
  for (let i = 5; i <= 14; i++) assert.ok(s.lrAt(i) < s.lrAt(i - 1), `decreasing at ${i}`);
  assert.equal(s.lrAt(7), s.lrAt(7), 'no state');
  assert.deepEqual([0, 99].map((i) => constantLr(3e-4).lrAt(i)), [3e-4, 3e-4]);
  const e = epochwise(warmupCosine({ lr: 0.1, warmupSteps: 2, totalSteps: 4 }), 3);
  assertLrs(Array.from({ length: 9 }, (_, i) => e.lrAt(i)), [0, 0, 0, 0.05, 0.05, 0.05, 0.1, 0.1, 0.1]);
});

test('Scheduler sets every group\'s lr: step 0 at construction, one schedule or one per group from its base lr', () => {
  const w = param([2], 1);
  const b = param([2], 2);
  const sgd = new SGD([{ params: [w], lr: 1 }, { params: [b], lr: 0.5 }]);
  const shared = new Scheduler(sgd, warmupCosine({ lr: 0.2, warmupSteps: 2, totalSteps: 4 }));
  assertLrs(shared.lrs, [0, 0]);
  shared.step();
  assertLrs(shared.lrs, [0.1, 0.1]);
  assert.equal(shared.currentStep, 1);
  sgd.paramGroups[0]!.lr = 1;
  sgd.paramGroups[1]!.lr = 0.5;
  const perGroup = new Scheduler(sgd, (lr) => warmupCosine({ lr, warmupSteps: 2, totalSteps: 4 }));
  perGroup.step();
  assertLrs(perGroup.lrs, [0.5, 0.25]);
  assert.deepEqual(perGroup.stateDict(), { tensors: {}, meta: { kind: 'Scheduler', step: 1, baseLrs: [1, 0.5] } });
  w.dispose();
  b.dispose();
});

test('EMA: constant decay matches the closed form d^n·s0 + (1 − d)·Σ d^(n−k)·x_k; warm-up uses min(d, (1+t)/(10+t))', () => {
  const live = tensor([1, -2, 3]).requiresGrad_();
  const counter = tensor([7], { dtype: 'int64' });
  const d = 0.8;
  const ema = new Ema([['p', live], ['n', counter]], { decay: d, warmup: false });
  const xs = [[0.5, 1, -1], [2, 0, 0.25], [-3, 4, 1], [1, 1, 1], [0, -0.5, 2]];
  const expected = [1, -2, 3].map((s0, j) => d ** xs.length * s0 + (1 - d) * xs.reduce((acc, x, k) => acc + d ** (xs.length - 1 - k) * x[j]!, 0));
  for (const [k, x] of xs.entries()) {
    tidy(() => live.setData_(tensor(x)));
    counter.add_(k + 1);
    ema.update();
  }
  const shadow = ema.stateDict().tensors;
  bits(shadow.p!).forEach((v, j) => assert.ok(Math.abs(v - expected[j]!) <= 1e-6 * Math.abs(expected[j]!) + 1e-6, `shadow[${j}] ${v} vs ${expected[j]}`));
  assert.equal(shadow.n!.item(), 7 + 15, 'an integer buffer is copied, not averaged');
  assert.deepEqual([ema.decayAt(1), ema.decayAt(1e6)], [d, d]);

  const warm = new Ema([['p', live]], { decay: 0.99 });
  assert.deepEqual([0, 1, 10, 1e6].map((t) => warm.decayAt(t)), [0.1, 2 / 11, 11 / 20, 0.99]);
  const s0 = bits(live);
  tidy(() => live.setData_(tensor([10, 20, 30])));
  warm.update();
  const d1 = 2 / 11;
  bits(warm.stateDict().tensors.p!).forEach((v, j) => assert.ok(Math.abs(v - (d1 * s0[j]! + (1 - d1) * 10 * (j + 1))) < 1e-5));
  assert.equal(warm.updates, 1);
  ema.dispose();
  warm.dispose();
  live.dispose();
  counter.dispose();
});

test('EMA swapIn/swapOut and withEmaWeights evaluate with the EMA and restore the live weights exactly', async () => {
  const before = liveTensors();
  const live = param([3], 1);
  const ema = new Ema([['p', live]], { decay: 0.5, warmup: false });
  tidy(() => live.setData_(tensor([1, 2, 3]).requiresGrad_()));
  ema.update();
  const liveBits = bits(live);
  const emaBits = bits(ema.stateDict().tensors.p!);
  assert.notDeepEqual(liveBits, emaBits);

  ema.swapIn();
  assert.deepEqual(bits(live), emaBits);
  assert.throws(() => ema.update(), /swapped in; swapOut\(\) first/);
  assert.throws(() => ema.swapIn(), /already swapped in/);
  ema.swapOut();
  assert.deepEqual(bits(live), liveBits);
  assert.throws(() => ema.swapOut(), /not swapped in/);

  assert.deepEqual(ema.withEmaWeights(() => bits(live)), emaBits);
  assert.throws(() => ema.withEmaWeights(() => { throw new Error('eval failed'); }), /eval failed/);
  assert.deepEqual(bits(live), liveBits, 'restored after a throw');
  assert.deepEqual(await ema.withEmaWeights(async () => bits(live)), emaBits);
  assert.deepEqual(bits(live), liveBits, 'restored after an async evaluation');

  const other = zeros([3]);
  ema.copyTo([['p', other]]);
  assert.deepEqual(bits(other), emaBits);
  assert.throws(() => ema.copyTo([['q', other]]), /Ema\.copyTo: no tensor 'p'; 'q' has no EMA/);
  ema.copyTo();
  assert.deepEqual(bits(live), emaBits, 'copyTo() with no target writes the EMA into the live tensors');
  ema.dispose();
  live.dispose();
  other.dispose();
  assert.equal(liveTensors(), before);
});

test('GradAccumulator: loss / k over k micro-batches gives the full-batch gradient and says when to step', () => {
  const w = param([4, 3], 1);
  const b = param([3], 2);
  const accumulator = new GradAccumulator(3);
  const boundaries = [0, 1, 2, 3, 4, 5].map((k) => tidy(() => accumulator.backward(backwardOn(k % 3, w, b))));
  assert.deepEqual(boundaries, [false, false, true, false, false, true]);
  const accumulated = [bits(w.grad!), bits(b.grad!)];
  w.grad = null;
  b.grad = null;
  // Two passes over the same 3 micro-batches at 1/3 each = the mean loss over them, twice.
  tidy(() => [0, 1, 2].map((k) => backwardOn(k, w, b)).reduce((a, c) => a.add(c)).mul(2 / 3).backward());
  [bits(w.grad!), bits(b.grad!)].forEach((full, i) => full.forEach((v, j) =>
    assert.ok(Math.abs(v - accumulated[i]![j]!) <= 1e-6 * Math.abs(v) + 1e-7, `grad ${i}[${j}]: ${accumulated[i]![j]} vs ${v}`)));
  assert.equal(accumulator.pending, 0);
  tidy(() => accumulator.backward(backwardOn(0, w, b)));
  assert.deepEqual(accumulator.stateDict().meta, { kind: 'GradAccumulator', k: 3, pending: 1 });
  const resumed = new GradAccumulator(3);
  resumed.loadStateDict(accumulator.stateDict());
  assert.equal(resumed.pending, 1);
  w.dispose();
  b.dispose();
});

test('steps, clipping, schedules and EMA leave the live tensor count flat', () => {
  const before = liveTensors();
  const w = param([4, 3], 1);
  const b = param([3], 2);
  const optimizers = [new AdamW([w], { lr: 0.01 }), new SGD([b], { lr: 0.01, momentum: 0.9 })];
  const ema = new Ema([['w', w], ['b', b]]);
  const scheduler = new Scheduler(optimizers[0]!, warmupCosine({ lr: 0.01, warmupSteps: 5, totalSteps: 50 }));
  const counts: number[] = [];
  for (let i = 0; i < 40; i++) {
    tidy(() => {
      backwardOn(i, w, b).backward();
      clipGradNorm([w, b], 1);
      for (const o of optimizers) o.step();
      for (const o of optimizers) o.zeroGrad();
      scheduler.step();
      ema.update();
    });
    counts.push(liveTensors());
  }
  assert.deepEqual(counts.slice(1), counts.slice(1).map(() => counts[1]), `live tensors per step: ${counts.join(', ')}`);
  for (const o of [...optimizers, ema]) o.dispose();
  w.dispose();
  b.dispose();
  assert.equal(liveTensors(), before);
});
