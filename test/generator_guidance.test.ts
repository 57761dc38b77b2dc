// Guidance schedules at chosen positions, top-k / top-p masks on hand-made
// logits, temperature 0 as argmax, seeded draws, and draws by inverse CDF
// from a uniform per row (docs/method.md §5).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cfgScale, drawTokens, guideLogits, inverseCdf, topKFilter, topPFilter } from '../src/generator/index.js';
import { RandomStream, liveTensors, rand, tensor, tidy } from '../src/torch/index.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('CFG schedules: constant, linear and the cosine-power ramp at chosen positions', () => {
  const T = 64;
  close(cfgScale(10, T, { scale: 4, schedule: 'constant' }), 4);
  close(cfgScale(0, T, { scale: 4, schedule: 'linear' }), 1);
  close(cfgScale(32, T, { scale: 4, schedule: 'linear' }), 2.5);
  // 1 + (g − 1)(1 − cos(π (t/T)^p))/2 with g = 6, p = 1.15 (RAR-B).
  close(cfgScale(0, T, { scale: 6, schedule: 'cosine', power: 1.15 }), 1);
  close(cfgScale(32, T, { scale: 6, schedule: 'cosine', power: 1.15 }), 1 + (5 * (1 - Math.cos(Math.PI * 0.5 ** 1.15))) / 2);
  close(cfgScale(32, T, { scale: 6, schedule: 'cosine', power: 1 }), 3.5);
  const ramp = Array.from({ length: T }, (_, t) => cfgScale(t, T, { scale: 6, schedule: 'cosine', power: 1.15 }));
  assert.ok(ramp.every((g, i) => i === 0 || g > ramp[i - 1]!), 'the ramp rises');
  assert.throws(() => cfgScale(64, T, { scale: 6, schedule: 'cosine' }), /position 64 of 64/);
  assert.throws(() => cfgScale(0, T, { scale: 6, schedule: 'cubic' as 'cosine' }), /schedule must be one of constant, linear, cosine/);
});

test('guided logits are u + (c − u)·g: g = 1 gives c, g = 0 gives u', () => tidy(() => {
  const c = tensor([[2, 0, -1]]);
  const u = tensor([[1, 1, 1]]);
  assert.deepEqual(guideLogits(c, u, 1).tolist(), [[2, 0, -1]]);
  assert.deepEqual(guideLogits(c, u, 0).tolist(), [[1, 1, 1]]);
  assert.deepEqual(guideLogits(c, u, 3).tolist(), [[4, -2, -5]]);
}));

test('top-k keeps the k largest; top-p keeps the most likely tokens up to and including the one that crosses p', () => tidy(() => {
  const logits = tensor([[1, 4, 2, 3], [0, 0, 5, 1]]);
  const inf = Number.NEGATIVE_INFINITY;
  assert.deepEqual(topKFilter(logits, 2).tolist(), [[inf, 4, inf, 3], [inf, inf, 5, 1]]);
  assert.deepEqual(topKFilter(logits, 0).tolist(), logits.tolist(), 'k = 0 is off');
  // Probabilities 0.5, 0.3, 0.2 (log-probabilities as logits): p = 0.6 keeps the first two, p = 0.5 only the first.
  const probs = tensor([[Math.log(0.2), Math.log(0.5), Math.log(0.3)]]);
  assert.deepEqual((topPFilter(probs, 0.6).tolist() as number[][])[0]!.map((v) => v === inf), [true, false, false]);
  assert.deepEqual((topPFilter(probs, 0.5).tolist() as number[][])[0]!.map((v) => v === inf), [true, false, true]);
  assert.deepEqual((topPFilter(probs, 0.01).tolist() as number[][])[0]!.map((v) => v === inf), [true, false, true], 'the most likely token always stays');
  assert.deepEqual(topPFilter(probs, 1).tolist(), probs.tolist());
}));

test('temperature 0 is argmax; the same seed draws the same tokens, another seed others; draws follow the probabilities', () => {
  const live = liveTensors();
  tidy(() => {
    const logits = tensor([[0, 3, 1], [5, 0, 0]]);
    assert.deepEqual(drawTokens(logits, { temperature: 0 }).tolist(), [1, 0]);
    const many = logits.slice(0, 0, 1).expand(4000, 3).contiguous();
    const a = drawTokens(many, { stream: new RandomStream(7) });
    const b = drawTokens(many, { stream: new RandomStream(7) });
    const c = drawTokens(many, { stream: new RandomStream(8) });
    assert.ok(a.eq(b).all().item(), 'same seed, same tokens');
    assert.ok(!a.eq(c).all().item(), 'another seed, other tokens');
    // softmax([0, 3, 1]) = [0.042, 0.844, 0.114]; 4,000 draws: within 4 binomial standard deviations.
    const counts = [0, 1, 2].map((k) => a.eq(k).sum().item() as number);
    const expected = [0, 3, 1].map((v) => Math.exp(v) / (1 + Math.exp(3) + Math.exp(1)));
    counts.forEach((n, k) => assert.ok(Math.abs(n / 4000 - expected[k]!) < 4 * Math.sqrt((expected[k]! * (1 - expected[k]!)) / 4000), `token ${k}: ${n}`));
    const greedyByTopK = drawTokens(many, { topK: 1, stream: new RandomStream(1) });
    assert.ok(greedyByTopK.eq(1).all().item(), 'top-k = 1 is greedy');
    assert.throws(() => drawTokens(logits, { topP: 0 }), /top-p must be in \(0, 1\]/);
    assert.throws(() => drawTokens(logits, { temperature: -1 }), /temperature must be a finite number ≥ 0/);
  });
  assert.equal(liveTensors(), live);
});

test('inverse-CDF draws: the first token whose cumulative probability reaches 1 − u, never a token of probability zero, and a row\'s token does not depend on the other rows', () => {
  const live = liveTensors();
  tidy(() => {
    // cdf [0.5, 0.5, 1]: targets 1 − u = 0.4 → token 0; 0.6 and 1 → token 2 (token 1 has probability zero).
    const p = tensor([[0.5, 0, 0.5]]).expand(3, 3).contiguous();
    assert.deepEqual(inverseCdf(p, tensor([0.6, 0.4, 0])).tolist(), [0, 2, 2]);
    const logits = tensor([[0, 3, 1, -1], [2, 2, 0, 0], [1, 0, 4, 0]]);
    const u = rand([3, 64], { stream: new RandomStream(3) });
    const together = Array.from({ length: 64 }, (_, t) => drawTokens(logits, { topK: 3, uniform: u.select(1, t) }).tolist() as number[]);
    for (let row = 0; row < 3; row++) {
      const alone = Array.from({ length: 64 }, (_, t) => (drawTokens(logits.narrow(0, row, 1), { topK: 3, uniform: u.narrow(0, row, 1).select(1, t) }).tolist() as number[])[0]);
      assert.deepEqual(alone, together.map((r) => r[row]), `row ${row} drawn alone`);
    }
    assert.ok(together.every((r) => r[0] !== 3), 'row 0: token 3 (logit −1) is outside the top 3');
    assert.ok(new Set(together.map((r) => r[0])).size > 1, 'the uniforms spread the draws');
  });
  assert.equal(liveTensors(), live);
});
