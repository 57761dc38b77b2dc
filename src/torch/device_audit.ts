// Finding, without a GPU, the tensors that code creates on the default device
// instead of its inputs' device. On a CUDA run each such tensor lands on the
// CPU and the next op that mixes it with a GPU tensor fails (or silently copies
// every step). Tests run a model's forward pass, a perturbation or a sampler
// inside `auditImplicitDevices` on the CPU: every creation there that names no
// device throws, naming the factory. Code that means the host says
// `device: 'cpu'`. (libtorch 1.13's `meta` device cannot stand in for CUDA:
// it lacks convolution, index_select and embedding kernels.)
import type { Device } from './tensor.js';

let depth = 0;

/** Runs `fn` with every tensor factory required to name its device. */
export function auditImplicitDevices<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    depth--;
  }
}

/** @internal `device` as given; inside an audit, a missing one is an error naming `factory`. */
export function placed(device: Device | undefined, factory: string): Device | undefined {
  if ((device === undefined || device === null) && depth > 0) {
    throw new Error(`${factory}() named no device inside auditImplicitDevices: on a GPU run this tensor would be created on the CPU`);
  }
  return device;
}
