// One rank of the collective tests (test/distributed.test.ts): joins a Gloo
// group on loopback and prints, as one JSON line, what each collective gave
// (or the error it threw). Usage: node distributed_worker.js SCENARIO RANK WORLD PORT
import { ProcessGroup, type Tensor, arange, tensor } from '../../src/torch/index.js';

const [scenario, rankText, worldText, portText] = process.argv.slice(2);
const rank = Number(rankText);
const worldSize = Number(worldText);
const rendezvous = { kind: 'tcp' as const, host: '127.0.0.1', port: Number(portText) };

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
  const list = (t: Tensor) => Array.from(t.toTypedArray() as Float32Array);
  return { sum: list(sum), avg: list(avg), max: list(max), broadcast: list(fromLast), gathered: gathered.map(list) };
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
  const result = scenario === 'collectives' ? collectives(group) : mismatched(group);
  process.stdout.write(`${JSON.stringify({ rank, ok: true, ...result })}\n`);
  group.destroy();
} catch (error) {
  process.stdout.write(`${JSON.stringify({ rank, ok: false, error: (error as Error).message })}\n`);
}
