// Where a reproduction's stages compute (`reproduce --device`). Each stage
// runs on one device; with --jobs N the N stage slots take the GPUs in turn
// (slot k on cuda:(k mod GPUs)), so N stages on N GPUs run one per GPU, and
// more slots than GPUs share them. The device is a placement, not part of a
// stage's config: it is not hashed, so a reproduction started on a GPU
// continues on a CPU and back (checkpoints are device-independent,
// src/train/device.ts), and the run folders' config.json say where each ran.
import { type Device, cuda } from '../torch/index.js';
import { resolveDevice } from '../train/index.js';

/**
 * The device of each of `jobs` stage slots for a `--device` setting: all
 * `cpu`; one named GPU (`cuda:N`) for every slot; or for `cuda` and `auto`
 * (with a GPU) the GPUs in turn. A GPU this build or machine lacks is refused
 * by resolveDevice with what to do.
 */
export function stageDevices(setting: string, jobs: number): Device[] {
  const first = resolveDevice(setting);
  return slotDevices(first, /^cuda:\d+$/.test(setting), jobs, first === 'cpu' ? 0 : cuda.deviceCount());
}

/** Slot k's device: `first` for every slot when it is the CPU or a GPU named by number (`pinned`), else cuda:(k mod gpus). */
export function slotDevices(first: Device, pinned: boolean, jobs: number, gpus: number): Device[] {
  return Array.from({ length: jobs }, (_, k): Device => (first === 'cpu' || pinned ? first : `cuda:${k % gpus}`));
}
