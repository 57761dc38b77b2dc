// `npm run bench:distributed`: is data-parallel training worth it on this
// machine? Steps per second of the small tokenizer preset (global batch 64)
// as one process with 2 threads and as 2 ranks (batch 32 each) with 1 thread
// each, through `robustok launch`; then the all-reduce bandwidth of a 10M-float
// gradient between 2 ranks on loopback. Last line: JSON with
// scaling_efficiency (2-rank steps/s over 1-process steps/s) and
// allreduce_gbps (GB/s of the tensor's bytes per all-reduce, nccl-tests' "algbw").
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
const FLOATS = 10_000_000;
const REPEATS = 5;

const freePort = () => new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  });
});

/** Median steps/s of a small-preset run after its first 5 steps (warm-up), from metrics.jsonl. */
async function stepsPerSecond(nproc: number): Promise<number> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'robustok-bench-ddp-'));
  try {
    const train = ['train-tokenizer', '--config', path.join(root, 'configs', 'tokenizer', 'small.yaml'), '--out', out,
      '--set', `train.steps=${STEPS}`, '--set', `train.batchSize=${64 / nproc}`, '--set', 'train.logEvery=1', '--set', `train.sampleEvery=${STEPS}`];
    const args = nproc === 1 ? train : ['launch', '--nproc', String(nproc), '--master-port', String(await freePort()), ...train];
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
  console.log(`small tokenizer preset, global batch 64, ${STEPS} steps each (median after 5), load average ${os.loadavg()[0]!.toFixed(2)}`);
  const one = await stepsPerSecond(1);
  console.log(`world size 1, 2 threads: ${one.toFixed(2)} steps/s`);
  const two = await stepsPerSecond(2);
  console.log(`world size 2, 1 thread each: ${two.toFixed(2)} steps/s`);
  const gbps = await allReduceGBps();
  console.log(`all-reduce of ${FLOATS / 1e6}M floats between 2 ranks on loopback (Gloo): ${gbps.toFixed(3)} GB/s`);
  console.log(JSON.stringify({ scaling_efficiency: Number((two / one).toFixed(3)), allreduce_gbps: Number(gbps.toFixed(3)) }));
}
