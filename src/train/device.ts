// Where a run computes (`train.device`, `--device`). A trainer resolves the
// setting once, moves the models it owns there before their optimizers are
// built (so optimizer state and EMA shadows are created beside the weights),
// and moves each batch there as it arrives. Checkpoints stay
// device-independent: tensors are copied to the host when written and into
// the live tensors' device when read, so a GPU run resumes on a CPU and back.
// On the CPU nothing moves, so CPU runs are what they were.
//
// Under `robustok launch` each rank takes the GPU of its local rank, as
// torchrun scripts do with `torch.cuda.set_device(LOCAL_RANK)`: `cuda` (or
// `auto` on a GPU machine) means cuda:LOCAL_RANK there, and the ranks talk
// over NCCL (src/runs/data_parallel.ts).
import { type Device, cuda } from '../torch/index.js';
import { rankEnvFrom } from './distributed.js';

/** What resolveDevice knows of the machine and the process: GPUs libtorch sees, and the local rank under launch (null outside it). */
export interface DeviceContext {
  gpus: number;
  localRank: number | null;
}

/** This process's context: libtorch's GPU count and torchrun's LOCAL_RANK. */
export const deviceContext = (env: NodeJS.ProcessEnv = process.env): DeviceContext => ({
  gpus: cuda.isAvailable() ? cuda.deviceCount() : 0,
  localRank: rankEnvFrom(env)?.localRank ?? null,
});

/**
 * `cpu`, `cuda`, `cuda:N` or `auto` (cuda when libtorch sees a GPU) → the
 * device tensors report (`cuda` is `cuda:0`, or cuda:LOCAL_RANK for a rank of
 * `launch`); a GPU this build or machine lacks is an error that says so.
 */
export function resolveDevice(setting: string, context: DeviceContext = deviceContext()): Device {
  if (setting === 'cpu') return 'cpu';
  const { gpus, localRank } = context;
  if (setting === 'auto' && gpus === 0) return 'cpu';
  const match = setting === 'auto' ? ['auto'] : /^cuda(?::(\d+))?$/.exec(setting);
  if (!match) throw new RangeError(`device '${setting}': expected cpu, cuda, cuda:N or auto`);
  if (gpus === 0) {
    throw new Error(`device '${setting}': this libtorch sees no CUDA device (a CPU-only build, or no GPU on this machine); build the addon against a CUDA libtorch (README, "GPUs") or use --device cpu`);
  }
  const plural = `libtorch sees ${gpus} CUDA device${gpus === 1 ? '' : 's'} (cuda:0…cuda:${gpus - 1})`;
  if (localRank !== null) {
    if (match[1] !== undefined) throw new Error(`device '${setting}' under robustok launch: each rank takes the GPU of its local rank; pass --device cuda`);
    if (localRank >= gpus) throw new RangeError(`device '${setting}': the rank with LOCAL_RANK=${localRank} has no GPU of its own: ${plural}; launch at most ${gpus} ranks a machine`);
    return `cuda:${localRank}`;
  }
  const index = Number(match[1] ?? 0);
  if (index >= gpus) throw new RangeError(`device '${setting}': ${plural}`);
  return `cuda:${index}`;
}
