// `npm run bench:distributed`: is data-parallel training worth it on this
// machine? Steps per second of the small tokenizer preset (global batch 64)
// as one process with 2 threads and as 2 ranks (batch 32 each) with 1 thread
// each, through `robustok launch`, the gradients averaged after backward and
// (--overlap-backward) during it, in 25 and 1 MiB buckets; medians over
// ROUNDS round-robin runs of every layout; then the all-reduce bandwidth of a
// 10M-float gradient between 2 ranks on loopback. Last line: JSON with
// scaling_efficiency (2-rank steps/s over 1-process steps/s, averaged after
// backward), overlap_speedup (during over after backward, 25 MiB buckets;
// overlap_speedup_1mib with 1 MiB buckets) and allreduce_gbps
// (GB/s of the tensor's bytes per all-reduce, nccl-tests' "algbw").
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProcessGroup, zeros } from '../src/torch/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const STEPS = 30;
const ROUNDS = 3;
const FLOATS = 10_000_000;
const REPEATS = 5;

const freePort = () => new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});

/** Median steps/s of a small-preset run after its first 5 steps (warm-up), from metrics.jsonl. */
async function stepsPerSecond(nproc: number, launchFlags: string[] = []): Promise<number> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'robustok-bench-ddp-'));
  try {
    const train = ['train-tokenizer', '--config', path.join(root, 'configs', 'tokenizer', 'small.yaml'), '--out', out,
      '--set', `train.steps=${STEPS}`, '--set', `train.batchSize=${64 / nproc}`, '--set', 'train.logEvery=1', '--set', `train.sampleEvery=${STEPS}`];
    const args = nproc === 1 ? train : ['launch', '--nproc', String(nproc), '--master-port', String(await freePort()), ...launchFlags, ...train];
    const run = spawnSync(process.execPath, [cli, ...args], { env: { ...process.env, ROBUSTOK_THREADS: String(2 / nproc) }, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`world size ${nproc} failed:\n${run.stderr}`);
    const rates = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').slice(5)
      .map((l) => (JSON.parse(l) as { imagesPerSecond: number }).imagesPerSecond / 64).sort((a, b) => a - b);
    return rates[Math.floor(rates.length / 2)]!;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** One rank of the bandwidth test: the median time of REPEATS all-reduces of FLOATS floats, in s. */
function allReduceRank(rank: number, port: number): void {
  const group = ProcessGroup.init({ rank, worldSize: 2, rendezvous: { kind: 'tcp', host: '127.0.0.1', port } });
  const grad = zeros([FLOATS]);
  group.allReduce(grad, 'sum').wait();  // warm-up (connections, buffers)
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    group.allReduce(grad, 'sum', { checkShapes: false }).wait();
    times.push((performance.now() - start) / 1000);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(`${times[Math.floor(REPEATS / 2)]}\n`);
  group.destroy();
}

async function allReduceGBps(): Promise<number> {
  const port = await freePort();
  const self = fileURLToPath(import.meta.url);
  const seconds = await Promise.all([0, 1].map((rank) => new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [self, '--allreduce-rank', String(rank), String(port)], { env: { ...process.env, ROBUSTOK_THREADS: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.pipe(process.stderr);
    child.once('close', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`all-reduce rank ${rank} exited ${code}`))));
  })));
  return (FLOATS * 4) / Math.max(...seconds) / 1e9;
}

if (process.argv[2] === '--allreduce-rank') {
  allReduceRank(Number(process.argv[3]), Number(process.argv[4]));
} else {
  console.log(`small tokenizer preset, global batch 64, ${STEPS} steps a run (median after 5), ${ROUNDS} rounds over the layouts, ` +
    `load average ${os.loadavg()[0]!.toFixed(2)}`);
  const layouts: { name: string; nproc: number; flags: string[] }[] = [
    { name: 'world size 1, 2 threads', nproc: 1, flags: [] },
    { name: 'world size 2, 1 thread each, averaged after backward, 25 MiB buckets', nproc: 2, flags: [] },
    { name: 'world size 2, 1 thread each, averaged after backward, 1 MiB buckets', nproc: 2, flags: ['--bucket-mb', '1'] },
    { name: 'world size 2, 1 thread each, averaged during backward, 25 MiB buckets', nproc: 2, flags: ['--overlap-backward'] },
    { name: 'world size 2, 1 thread each, averaged during backward, 1 MiB buckets', nproc: 2, flags: ['--overlap-backward', '--bucket-mb', '1'] },
  ];
  // Round-robin, so that a slow spell of the machine touches every layout alike.
  const rates: number[][] = layouts.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, l] of layouts.entries()) rates[i]!.push(await stepsPerSecond(l.nproc, l.flags));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const [one, after, afterSmall, during, duringSmall] = rates.map(median) as [number, number, number, number, number];
  layouts.forEach((l, i) => console.log(`${l.name}: ${median(rates[i]!).toFixed(2)} steps/s (runs: ${rates[i]!.map((r) => r.toFixed(2)).join(', ')})`));
  const gbps = await allReduceGBps();
  console.log(`all-reduce of ${FLOATS / 1e6}M floats between 2 ranks on loopback (Gloo): ${gbps.toFixed(3)} GB/s`);
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  console.log(JSON.stringify({
    scaling_efficiency: ratio(after, one), overlap_speedup: ratio(during, after), overlap_speedup_1mib: ratio(duringSmall, afterSmall),
    allreduce_gbps: Number(gbps.toFixed(3)),
  }));
}
