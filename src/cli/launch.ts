// `robustok launch --nproc N [--nnodes M --node-rank R --master-addr A --master-port P] <command> [flags]`:
// torchrun for robustok. Starts N processes of a training command on this
// machine with torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT), prefixes their output with the rank, ends all of
// them when one fails (and says which, with its error), and forwards
// Ctrl-C / SIGTERM so every rank stops at the same step and rank 0 saves.
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { flagLines, flagTable, positiveInteger, positiveNumber, readFlags, seed } from './flags.js';

/** Training commands (train-generator and post-train accept only --nproc 1 for now: their run functions say so). */
const LAUNCHABLE = ['train-tokenizer', 'train-generator', 'post-train'];
/** How long ranks get to stop after a failure or a signal before they are killed. */
const GRACE_MS = 15_000;

const flags = flagTable({
  nproc: { value: 'N', help: 'processes on this machine', required: true, parse: positiveInteger },
  nnodes: { value: 'M', help: 'machines in the job', default: 1, parse: positiveInteger },
  'node-rank': { value: 'R', help: "this machine's index", default: 0, parse: seed },
  'master-addr': { value: 'A', help: 'where rank 0 serves the rendezvous', default: '127.0.0.1' },
  'master-port': { value: 'P', help: 'its TCP port', default: 29500, parse: positiveInteger },
  'no-overlap-backward': {
    help: "average the gradients once backward is done, rather than\neach bucket while backward still runs (DDP's way, the\ndefault); the same values either way",
  },
  'bucket-mb': { value: 'MB', help: 'gradient bucket size, one all-reduce each (default 25)', parse: positiveNumber },
});

export const launchUsage = `usage: robustok launch --nproc N [--nnodes M --node-rank R --master-addr A --master-port P]
                       [--no-overlap-backward] [--bucket-mb MB] <command> [flags]

Runs <command> (${LAUNCHABLE.join(', ')}) as N data-parallel processes on this
machine, as torchrun does: each gets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR
and MASTER_PORT, and ROBUSTOK_THREADS = cores / N unless it is set. Every rank
trains on its own train.batchSize share of each step (the global batch is
N × M × train.batchSize); rank 0 logs, draws samples and writes checkpoints.
With --device cuda (or auto) each rank trains on the GPU of its LOCAL_RANK
and the ranks average over NCCL; on the CPU they use Gloo.
Several machines: run the same line on each with --nnodes M and its own
--node-rank (0 … M−1), --master-addr naming node 0 (reachable from all) and
the same --master-port; the run folder must be on storage all nodes share.

${flagLines(flags)}`;

export interface LaunchPlan {
  nproc: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort: number;
  overlapBackward: boolean;
  bucketMb?: number;
  command: string[];
}

/** The launcher's flags, up to the command, which keeps its own. */
export function parseLaunch(argv: string[]): LaunchPlan {
  const commandAt = argv.findIndex((a) => LAUNCHABLE.includes(a));
  const f = readFlags(commandAt < 0 ? argv : argv.slice(0, commandAt), flags, launchUsage);
  const plan: LaunchPlan = {
    nproc: f.nproc, nnodes: f.nnodes, nodeRank: f['node-rank'], masterAddr: f['master-addr'], masterPort: f['master-port'],
    overlapBackward: !f['no-overlap-backward'], bucketMb: f['bucket-mb'], command: commandAt < 0 ? [] : argv.slice(commandAt),
  };
  if (plan.command.length === 0) throw new Error(`a command to launch is required (one of ${LAUNCHABLE.join(', ')})\n\n${launchUsage}`);
  if (plan.nodeRank >= plan.nnodes) throw new Error(`--node-rank ${plan.nodeRank} must be below --nnodes ${plan.nnodes}`);
  if (plan.masterPort > 65535) throw new Error(`--master-port must be at most 65535, got ${plan.masterPort}`);
  return plan;
}

/** The environment of local process `local` (torchrun's variables). */
export function rankEnvironment(plan: LaunchPlan, local: number, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const threads = Math.max(1, Math.floor(os.availableParallelism() / plan.nproc));
  return {
    ...base,
    RANK: String(plan.nodeRank * plan.nproc + local), WORLD_SIZE: String(plan.nnodes * plan.nproc),
    LOCAL_RANK: String(local), LOCAL_WORLD_SIZE: String(plan.nproc),
    MASTER_ADDR: plan.masterAddr, MASTER_PORT: String(plan.masterPort),
    ROBUSTOK_THREADS: base.ROBUSTOK_THREADS ?? String(threads),
    ...(plan.overlapBackward ? {} : { ROBUSTOK_OVERLAP_BACKWARD: '0' }),
    ...(plan.bucketMb !== undefined ? { ROBUSTOK_BUCKET_MB: String(plan.bucketMb) } : {}),
  };
}

/** Writes `stream`'s lines to `out`, each after `prefix`; returns the last non-empty line seen. */
function prefixLines(stream: NodeJS.ReadableStream, out: NodeJS.WritableStream, prefix: string): () => string {
  let partial = '';
  let last = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split(/\r?\n|\r/);
    partial = lines.pop()!;
    for (const line of lines) {
      out.write(`${prefix}${line}\n`);
      if (line.trim() !== '') last = line;
    }
  });
  stream.on('end', () => {
    if (partial !== '') out.write(`${prefix}${partial}\n`);
    if (partial.trim() !== '') last = partial;
  });
  return () => last;
}

export async function launchCommand(argv: string[]): Promise<void> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    console.log(launchUsage);
    return;
  }
  const plan = parseLaunch(argv);
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const worldSize = plan.nnodes * plan.nproc;
  console.error(`launch: ${plan.nproc} process(es) on this node (${plan.nodeRank} of ${plan.nnodes}), world size ${worldSize}, ` +
    `rendezvous ${plan.masterAddr}:${plan.masterPort}: ${plan.command.join(' ')}`);
  const children: { rank: number; child: ChildProcess; lastError: () => string }[] = [];
  let failure: { rank: number; code: number; message: string } | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  const stopAll = (signal: NodeJS.Signals) => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill(signal);
    // A rank stuck in a collective with a dead peer may not get to its handler: kill what is left.
    killTimer ??= setTimeout(() => children.forEach((c) => c.child.kill('SIGKILL')), GRACE_MS);
  };
  let interrupted = false;
  const forward = (signal: NodeJS.Signals) => () => {
    interrupted = true;
    stopAll(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const exits = Array.from({ length: plan.nproc }, (_, local) => {
    const rank = plan.nodeRank * plan.nproc + local;
    const child = spawn(process.execPath, [main, ...plan.command], {
      // Their own process group: a terminal's Ctrl-C reaches them once, through the launcher.
      env: rankEnvironment(plan, local), stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    prefixLines(child.stdout!, process.stdout, `[rank ${rank}] `);
    const lastError = prefixLines(child.stderr!, process.stderr, `[rank ${rank}] `);
    children.push({ rank, child, lastError });
    return new Promise<number>((resolve) => {
      child.once('error', (error) => {
        failure ??= { rank, code: 1, message: error.message };
        stopAll('SIGTERM');
        resolve(1);
      });
      child.once('close', (code, signal) => {
        const status = code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1);
        // The first rank to fail is the cause; the others end because of it.
        if (status !== 0 && failure === null && !interrupted) {
          failure = { rank, code: status, message: lastError() || `ended by ${signal ?? `exit code ${code}`}` };
          stopAll('SIGTERM');
        }
        resolve(status);
      });
    });
  });
  const codes = await Promise.all(exits);
  clearTimeout(killTimer);
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  const failed = failure as { rank: number; code: number; message: string } | null;
  if (failed) {
    console.error(`launch: rank ${failed.rank} failed (exit ${failed.code}): ${failed.message}`);
    process.exitCode = failed.code;
  } else if (codes.some((c) => c !== 0)) {
    process.exitCode = codes.find((c) => c !== 0)!;
  }
}
