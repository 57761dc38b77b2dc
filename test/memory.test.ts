// Native memory stays flat over long training loops run inside scopes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { AdamW } from '../src/optim/adamw.js';
import { F, Tensor, liveTensors, manualSeed, randn, tidy, zeros } from '../src/torch/index.js';

test('5,000 forward/backward/update steps keep live tensors constant and RSS flat', () => {
  manualSeed(0);
  const before = liveTensors();
  const params: Tensor[] = [
    randn([64, 32]).mul_(0.1).requiresGrad_(), zeros([64]).requiresGrad_(),
    randn([32, 64]).mul_(0.1).requiresGrad_(), zeros([32]).requiresGrad_(),
  ];
  const [w1, b1, w2, b2] = params as [Tensor, Tensor, Tensor, Tensor];
  const optimizer = new AdamW(params, { lr: 1e-3 });
  const x = randn([16, 32]);
  const step = (): number => tidy(() => {
    optimizer.zeroGrad();
    const y = F.linear(F.gelu(F.linear(x, w1, b1)), w2, b2);
    const loss = F.mseLoss(y, x);
    loss.backward();
    optimizer.step();
    return loss.item();
  });

  const counts: number[] = [];
  let rssAt1000 = 0;
  let firstLoss = 0;
  let lastLoss = 0;
  for (let i = 1; i <= 5000; i++) {
    lastLoss = step();
    if (i === 1) firstLoss = lastLoss;
    if (i % 500 === 0) counts.push(liveTensors());
    if (i === 1000) rssAt1000 = process.memoryUsage().rss;
  }
  const rssGrowth = process.memoryUsage().rss - rssAt1000;

  assert.ok(lastLoss < firstLoss, `the loop trains (loss ${firstLoss} → ${lastLoss})`);
  assert.deepEqual(counts, counts.map(() => counts[0]), `live tensors per 500 steps: ${counts.join(', ')}`);
  // Bound: 16 MiB of resident growth over 4,000 steps (one step allocates
  // ~40 KiB of tensors, so a leak of even one tensor a step would show).
  assert.ok(rssGrowth < 16 * 2 ** 20, `RSS grew by ${(rssGrowth / 2 ** 20).toFixed(1)} MiB between steps 1,000 and 5,000`);

  optimizer.dispose();
  for (const p of params) p.dispose();
  x.dispose();
  assert.equal(liveTensors(), before);
});

test('tidy frees everything but its result, also when the function throws', () => {
  const before = liveTensors();
  const kept = tidy(() => {
    const a = randn([4]);
    const b = a.mul(2).add(1);
    return { b, list: [a.sum()] };
  });
  assert.equal(liveTensors(), before + 2);
  kept.b.dispose();
  kept.list[0]!.dispose();
  assert.equal(liveTensors(), before);

  assert.throws(() => tidy(() => {
    randn([4]).mul(3);
    throw new Error('boom');
  }), /boom/);
  assert.equal(liveTensors(), before);

  const outer = tidy(() => {
    const inner = tidy(() => randn([2]).add(1));  // survives the inner scope, freed by the outer
    return inner.sum();
  });
  assert.equal(liveTensors(), before + 1);
  outer.dispose();
  assert.equal(liveTensors(), before);
});

test('keep() exempts a tensor from scopes; using disposes at block end', () => {
  const before = liveTensors();
  const parameter = tidy(() => randn([3]).keep());
  assert.equal(parameter.isDisposed, false);
  parameter.dispose();
  assert.equal(parameter.isDisposed, true);
  parameter.dispose();  // twice is harmless
  {
    using t = randn([5]);
    assert.equal(t.numel, 5);
  }
  assert.equal(liveTensors(), before);
});

test('a disposed tensor stays disposed after its slot is reused', () => {
  const old = randn([3]);
  old.dispose();
  const fresh = Array.from({ length: 8 }, () => randn([3]));  // reuses the freed slot
  assert.throws(() => old.add(1), /disposed/);
  assert.equal(old.isDisposed, true);
  old.dispose();  // still harmless: it must not free the tensor now in that slot
  assert.ok(fresh.every((t) => !t.isDisposed));
  for (const t of fresh) t.dispose();
});

test('tensors outside every scope are freed when the garbage collector takes them', () => {
  // A child process with --expose-gc, so this test's own heap is not involved.
  const script = `
    const torch = await import(${JSON.stringify(new URL('../src/torch/index.js', import.meta.url).href)});
    const before = torch.liveTensors();
    (() => { for (let i = 0; i < 1000; i++) torch.randn([256]); })();
    const created = torch.liveTensors() - before;
    for (let i = 0; i < 10 && torch.liveTensors() > before; i++) {
      globalThis.gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    console.log(JSON.stringify({ created, left: torch.liveTensors() - before }));`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
  const { created, left } = JSON.parse(out) as { created: number; left: number };
  assert.equal(created, 1000);
  assert.equal(left, 0, `${left} of 1000 unreferenced tensors were not freed by the GC`);
});
