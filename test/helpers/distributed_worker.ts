// One rank of the collective tests (test/distributed.test.ts): joins a Gloo
// group on loopback and prints, as one JSON line, what each collective gave
// (or the error it threw). Usage: node distributed_worker.js SCENARIO RANK WORLD PORT
import { ProcessGroup, type Tensor, arange, tensor, zeros } from '../../src/torch/index.js';

const [scenario, rankText, worldText, portText] = process.argv.slice(2);
const rank = Number(rankText);
const worldSize = Number(worldText);
const rendezvous = { kind: 'tcp' as const, host: '127.0.0.1', port: Number(portText) };

const list = (t: Tensor) => Array.from(t.toTypedArray() as Float32Array);

function collectives(group: ProcessGroup): Record<string, unknown> {
  // Rank r holds [r+1, 2(r+1), 3(r+1)]: sums, means and maxima are easy to compute by hand.
  const mine = () => arange(1, 4, 1, { dtype: 'float32' }).mul(rank + 1).contiguous();
  const sum = mine();
  const avg = mine();
  const max = mine();
  // Three collectives in flight at once, waited for afterwards.
  const works = [group.allReduce(sum, 'sum'), group.allReduce(avg, 'avg'), group.allReduce(max, 'max')];
  works.forEach((w) => w.wait());
  const fromLast = tensor([rank * 10, rank * 10 + 1]);
  group.broadcast(fromLast, worldSize - 1).wait();
  const gathered = group.allGather(tensor([rank, 10 - rank])).wait()!;
  group.barrier().wait();
  return { sum: list(sum), avg: list(avg), max: list(max), broadcast: list(fromLast), gathered: gathered.map(list) };
}

/**
 * Gradients averaged during backward (GradientReducer). Rank r's loss gives
 * a.grad = (r+1)·[1, 2, 3] and b.grad = (r+1)²·[1, 1]; c gets no gradient.
 * With c's bucket last, a's and b's buckets launch from the hooks; with it
 * first, it holds them back until finish. A second backward accumulates onto
 * the averaged gradients, as gradient accumulation does.
 */
function reducer(group: ProcessGroup): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, buckets] of [['cLast', [[0], [1], [2]]], ['cFirst', [[2], [0, 1]]]] as const) {
    const [a, b, c] = [zeros([3]), zeros([2]), zeros([4])].map((t) => t.requiresGrad_());
    const reduce = group.gradientReducer([a!, b!, c!], buckets.map((bucket) => [...bucket]));
    const backward = () => {
      reduce.arm();
      a!.mul(arange(1, 4, 1, { dtype: 'float32' })).mul(rank + 1).sum().add(b!.mul((rank + 1) ** 2).sum()).backward();
      return reduce.finish();
    };
    const first = backward();
    const once = { a: list(a!.grad!), b: list(b!.grad!) };
    const second = backward();
    out[name] = { first, second, once, twice: { a: list(a!.grad!), b: list(b!.grad!) }, cHasGrad: c!.grad !== null };
    reduce.dispose();
  }
  return out;
}

function mismatched(group: ProcessGroup): Record<string, unknown> {
  // Rank 0 sends 3 values, the others 4.
  group.allReduce(arange(0, rank === 0 ? 3 : 4, 1, { dtype: 'float32' }).contiguous(), 'sum').wait();
  return {};
}

try {
  // The world-size check: the last rank was told a larger world than the others.
  const told = scenario === 'world' && rank === worldSize - 1 ? worldSize + 1 : worldSize;
  const group = ProcessGroup.init({ rank, worldSize: told, rendezvous, timeoutMs: scenario === 'world' ? 3000 : 20000 });
  const run = { collectives, reducer, mismatch: mismatched }[scenario as 'collectives' | 'reducer' | 'mismatch'] ?? mismatched;
  const result = run(group);
  process.stdout.write(`${JSON.stringify({ rank, ok: true, ...result })}\n`);
  group.destroy();
} catch (error) {
  process.stdout.write(`${JSON.stringify({ rank, ok: false, error: (error as Error).message })}\n`);
}
