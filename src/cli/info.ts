// `robustok info`: libtorch's version, threads, CUDA devices and the process-group backends (gloo, nccl) as JSON; with
// --bench, this machine's reference figures (src/train/machine_bench.ts), as
// lines or, with --json, as one JSON line.
import { describeMachine, loadWarning, measureMachine } from '../train/index.js';
import { cuda, distributedAvailability, getNumThreads, torchVersion } from '../torch/index.js';
import { flagLines, flagTable, readFlags, wantsHelp } from './flags.js';

const flags = flagTable({
  bench: {
    help: "measure this machine's reference figures (a few seconds): sgemm GFLOP/s at 1 and\n" +
      'at all threads, and the reference conv training step; README times were measured\n' +
      'on a machine whose figures they state, so scale them by yours',
  },
  json: { help: 'with --bench: one JSON line' },
});

export const infoUsage = `usage: robustok info [--bench [--json]]

${flagLines(flags)}`;

export async function infoCommand(argv: string[]): Promise<void> {
  if (wantsHelp(argv)) {
    console.log(infoUsage);
    return;
  }
  const { bench, json } = readFlags(argv, flags, infoUsage);
  if (json && !bench) throw new Error(`--json goes with --bench (info prints JSON already)\n\n${infoUsage}`);
  if (!bench) {
    const distributed = distributedAvailability();
    console.log(JSON.stringify({
      libtorch: torchVersion, threads: getNumThreads(), cuda: cuda.isAvailable(), cudaDevices: cuda.deviceCount(),
      // gloo for CPU ranks; nccl only when the addon was built against a CUDA libtorch that has it.
      distributedBackends: distributed.backends, nccl: distributed.backends.includes('nccl'), node: process.version,
    }, null, 2));
    return;
  }
  const figures = measureMachine();
  const warning = loadWarning(figures);
  if (warning) console.error(warning);
  console.log(json ? JSON.stringify(figures) : describeMachine(figures).join('\n'));
}
