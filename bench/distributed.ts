// `npm run bench:distributed`: is data-parallel training worth it on this
// machine? Steps per second of the small tokenizer preset (global batch 64)
// as one process with 2 threads and as 2 ranks (batch 32 each) with 1 thread
// each, through `robustok launch`, the gradients averaged after backward and
// during it (the default), in 25 and 1 MiB buckets; medians over
// ROUNDS round-robin runs of every layout; then the all-reduce bandwidth of a
// 10M-float gradient between 2 ranks on loopback. Last line: JSON with
// scaling_efficiency (2-rank steps/s over 1-process steps/s, averaged after
// backward), overlap_speedup (during over after backward, 25 MiB buckets;
// overlap_speedup_1mib with 1 MiB buckets; overlap_speedup_mlp on a
// 19M-parameter MLP whose all-reduce is as long as its backward) and allreduce_gbps
// (GB/s of the tensor's bytes per all-reduce, nccl-tests' "algbw").
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Linear, Sequential } from '../src/nn/index.js';
import { ProcessGroup, manualSeed, randn, tidy, zeros } from '../src/torch/index.js';
import { DataParallel } from '../src/train/index.js';
import { median } from './paired_timing.js';

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
    return median(readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').slice(5)
      .map((l) => (JSON.parse(l) as { imagesPerSecond: number }).imagesPerSecond / 64));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const joinTwo = (rank: number, port: number) => ProcessGroup.init({ rank, worldSize: 2, rendezvous: { kind: 'tcp', host: '127.0.0.1', port } });

/** One rank of the bandwidth test: the median time of REPEATS all-reduces of FLOATS floats, in s. */
function allReduceRank(rank: number, port: number): void {
  const group = joinTwo(rank, port);
  const grad = zeros([FLOATS]);
  group.allReduce(grad, 'sum').wait();  // warm-up (connections, buffers)
  const times: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const start = performance.now();
    group.allReduce(grad, 'sum', { checkShapes: false }).wait();
    times.push((performance.now() - start) / 1000);
  }
  process.stdout.write(`${median(times)}\n`);
  group.destroy();
}

/**
 * A model whose gradients cost as much to send as to compute, where hiding
 * the all-reduce behind backward can pay (the small preset's 0.24M
 * parameters, 1 MB of gradients, take ~1 ms of a ~500 ms step): 8 linear
 * layers of 1536×1536 (19M parameters, 75 MB of gradients) on a batch of 16.
 * One rank: the median seconds of a forward + backward + gradient average.
 */
function mlpRank(rank: number, port: number, overlapBackward: boolean): void {
  const parallel = new DataParallel(joinTwo(rank, port), { overlapBackward, bucketMb: 25 });
  manualSeed(0);
  const mlp = new Sequential(...Array.from({ length: 8 }, () => new Linear(1536, 1536)));
  parallel.attach({ mlp });
  const x = randn([16, 1536]);
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    const start = performance.now();
    tidy(() => mlp.forward(x).square().mean().backward());
    mlp.zeroGrad();
    if (i >= 2) times.push((performance.now() - start) / 1000);  // after warm-up
  }
  process.stdout.write(`${median(times)}\n`);
  parallel.dispose();
}

/** Runs this file as both ranks of `mode` (1 thread each); each rank's printed number. */
async function onTwoRanks(mode: string, ...args: string[]): Promise<number[]> {
  const port = await freePort();
  const self = fileURLToPath(import.meta.url);
  return Promise.all([0, 1].map((rank) => new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [self, mode, String(rank), String(port), ...args], { env: { ...process.env, ROBUSTOK_THREADS: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.pipe(process.stderr);
    child.once('close', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`${mode} rank ${rank} exited ${code}`))));
  })));
}

if (process.argv[2] === '--allreduce-rank') {
  allReduceRank(Number(process.argv[3]), Number(process.argv[4]));
} else if (process.argv[2] === '--mlp-rank') {
  mlpRank(Number(process.argv[3]), Number(process.argv[4]), process.argv[5] === 'overlap');
} else {
  console.log(`small tokenizer preset, global batch 64, ${STEPS} steps a run (median after 5), ${ROUNDS} rounds over the layouts, ` +
    `load average ${os.loadavg()[0]!.toFixed(2)}`);
  const layouts: { name: string; nproc: number; flags: string[] }[] = [
    { name: 'world size 1, 2 threads', nproc: 1, flags: [] },
    { name: 'world size 2, 1 thread each, averaged after backward, 25 MiB buckets', nproc: 2, flags: ['--no-overlap-backward'] },
    { name: 'world size 2, 1 thread each, averaged after backward, 1 MiB buckets', nproc: 2, flags: ['--no-overlap-backward', '--bucket-mb', '1'] },
    { name: 'world size 2, 1 thread each, averaged during backward, 25 MiB buckets', nproc: 2, flags: [] },
    { name: 'world size 2, 1 thread each, averaged during backward, 1 MiB buckets', nproc: 2, flags: ['--bucket-mb', '1'] },
  ];
  // Round-robin, so that a slow spell of the machine touches every layout alike.
  const rates: number[][] = layouts.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, l] of layouts.entries()) rates[i]!.push(await stepsPerSecond(l.nproc, l.flags));
  }
  const [one, after, afterSmall, during, duringSmall] = rates.map(median) as [number, number, number, number, number];
  layouts.forEach((l, i) => console.log(`${l.name}: ${median(rates[i]!).toFixed(2)} steps/s (runs: ${rates[i]!.map((r) => r.toFixed(2)).join(', ')})`));
  const mlp: Record<'after' | 'overlap', number[]> = { after: [], overlap: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['after', 'overlap'] as const) mlp[mode].push(Math.max(...await onTwoRanks('--mlp-rank', mode)));
  }
  for (const mode of ['after', 'overlap'] as const) {
    console.log(`19M-parameter MLP, 2 ranks, 1 thread each, averaged ${mode === 'after' ? 'after' : 'during'} backward: ` +
      `${(1000 * median(mlp[mode])).toFixed(0)} ms a step (runs: ${mlp[mode].map((t) => (1000 * t).toFixed(0)).join(', ')})`);
  }
  const gbps = (FLOATS * 4) / Math.max(...await onTwoRanks('--allreduce-rank')) / 1e9;
  console.log(`all-reduce of ${FLOATS / 1e6}M floats between 2 ranks on loopback (Gloo): ${gbps.toFixed(3)} GB/s`);
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  console.log(JSON.stringify({
    scaling_efficiency: ratio(after, one), overlap_speedup: ratio(during, after), overlap_speedup_1mib: ratio(duringSmall, afterSmall),
    overlap_speedup_mlp: ratio(median(mlp.after), median(mlp.overlap)),
    allreduce_gbps: Number(gbps.toFixed(3)),
  }));
}
