// `train.precision`: the dtype a trainer's forward passes compute in.
//   fp32  everything in float32 (the default; CPU results as they always were);
//   bf16  autocast to bfloat16 (torch.autocast): float32's range, so no loss
//         scaling; on CPUs and GPUs;
//   fp16  autocast to float16 with dynamic loss scaling (GradScaler), GPUs only
//         (libtorch's CPU autocast casts to bfloat16 alone).
// Weights, optimizer state, the EMA and everything logged stay float32:
// autocast casts per op, inside the forward regions a trainer marks.
import { GradScaler } from '../optim/index.js';
import { type Device, autocast } from '../torch/index.js';

export type Precision = 'fp32' | 'bf16' | 'fp16';

export class MixedPrecision {
  /** The loss scale for fp16 (null otherwise); each MixedPrecision has its own, so a GAN's two players scale apart. */
  readonly scaler: GradScaler | null;

  constructor(readonly precision: Precision, readonly device: Device) {
    if (precision === 'fp16' && device === 'cpu') {
      throw new RangeError('train.precision fp16 needs a GPU (libtorch autocasts CPUs to bfloat16 only): use bf16 on the CPU, or --device cuda');
    }
    this.scaler = precision === 'fp16' ? new GradScaler() : null;
  }

  /** Runs a forward region (model, losses) in this precision; fp32 runs it as it is. */
  forward<T>(fn: () => T): T {
    if (this.precision === 'fp32') return fn();
    return autocast(this.device, this.precision === 'bf16' ? 'bfloat16' : 'float16', fn);
  }
}
