// Mixed precision as torch.autocast does it: inside `autocast`, libtorch runs
// the ops it lists as safe in a lower precision (matrix products,
// convolutions) in that dtype and keeps the ones that need float32's range
// (norms, softmax, losses, reductions) in float32; weights stay float32 and
// are cast per region (the casts are cached until the outermost region
// closes). Only forward ops are affected: backward follows the dtypes the
// forward chose. On CPUs libtorch autocasts to bfloat16 only.
import type { DType } from './dtype.js';
import { dtypeCode } from './dtype.js';
import { native as N } from './native.js';
import type { Device } from './tensor.js';

/** The dtypes autocast runs in. */
export type AutocastDtype = Extract<DType, 'bfloat16' | 'float16'>;

/** Runs `fn` with autocast on for `device`'s type (cpu or cuda) in `dtype`; the previous state is restored after, also on a throw. */
export function autocast<T>(device: Device, dtype: AutocastDtype, fn: () => T): T {
  const type = device.startsWith('cuda') ? 'cuda' : device;
  if (type !== 'cpu' && type !== 'cuda') throw new RangeError(`autocast: device ${device} is neither cpu nor cuda`);
  if (type === 'cpu' && dtype !== 'bfloat16') throw new RangeError(`autocast: on the CPU libtorch casts to bfloat16 only, not ${dtype}`);
  const [wasOn, previous] = N.autocastSet(type, true, dtypeCode(dtype)) as [boolean, number];
  N.autocastEnter();
  try {
    return fn();
  } finally {
    N.autocastExit();
    N.autocastSet(type, wasOn, previous);
  }
}
