// Where a run computes (`train.device`, `--device`). A trainer resolves the
// setting once, moves the models it owns there before their optimizers are
// built (so optimizer state and EMA shadows are created beside the weights),
// and moves each batch there as it arrives. Checkpoints stay
// device-independent: tensors are copied to the host when written and into
// the live tensors' device when read, so a GPU run resumes on a CPU and back.
// On the CPU nothing moves, so CPU runs are what they were.
import { type Device, cuda } from '../torch/index.js';

/** `cpu`, `cuda`, `cuda:N` or `auto` (cuda when libtorch sees a GPU) → the device tensors report (`cuda` is `cuda:0`); a GPU this build or machine lacks is an error that says so. */
export function resolveDevice(setting: string): Device {
  if (setting === 'cpu') return 'cpu';
  const available = cuda.isAvailable();
  if (setting === 'auto') return available ? 'cuda:0' : 'cpu';
  const match = /^cuda(?::(\d+))?$/.exec(setting);
  if (!match) throw new RangeError(`device '${setting}': expected cpu, cuda, cuda:N or auto`);
  if (!available) {
    throw new Error(`device '${setting}': this libtorch sees no CUDA device (a CPU-only build, or no GPU on this machine); build the addon against a CUDA libtorch (README, "GPUs") or use --device cpu`);
  }
  const index = Number(match[1] ?? 0);
  const count = cuda.deviceCount();
  if (index >= count) throw new RangeError(`device '${setting}': libtorch sees ${count} CUDA device${count === 1 ? '' : 's'} (cuda:0…cuda:${count - 1})`);
  return `cuda:${index}`;
}
