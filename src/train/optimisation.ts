// One trainer's optimisation, built the same way by the tokenizer, generator
// and post-training trainers (in the spirit of nanoGPT's
// configure_optimizers): AdamW, linear warm-up then cosine to a floor, a
// global gradient-norm clip, and an EMA of the weights that later stages
// use. `update(loss)` is the one visible step they share — zero the
// gradients, backward, clip, AdamW, advance the schedule — so device
// placement, accumulation or mixed precision (the fp16 loss scale) is added here once. The EMA is
// moved by `average()`, a separate call: the tokenizer's codebook upkeep
// (dead-code replacement) goes between the update and the average.
import { AdamW, Ema, type GradScaler, type LrSchedule, Scheduler, type Stateful, clipGradNorm, warmupCosine } from '../optim/index.js';
import { type Tensor, phase } from '../torch/index.js';
import type { MixedPrecision } from './precision.js';

/** The `optim` group's settings this needs (config_groups.ts). */
export interface OptimSettingsResolved {
  lr: number;
  lrMin: number;
  warmupFraction: number;
  weightDecay: number;
  clipNorm: number;
  emaDecay: number;
}

export interface OptimisationOptions {
  /** The trained tensors, or AdamW groups of them (the generator's decay groups). */
  params: Tensor[] | { params: Tensor[]; weightDecay: number }[];
  /** What the EMA shadows, by name (its state dict's names). */
  averaged: [string, Tensor][];
  /** What the clip measures, in that order (the order fixes the float sum, and so the run). */
  clipped: Tensor[];
  /** AdamW's (β₁, β₂). */
  betas: [number, number];
  /** Optimizer steps of the run (the schedule's length). */
  steps: number;
  /** The EMA's decay (default optim.emaDecay) and whether it warms up (default true). */
  ema?: { decay: number; warmup: boolean };
  /** train.precision: with fp16 its loss scaler scales backward and skips steps whose gradients overflowed. */
  precision?: MixedPrecision;
}

export class Optimisation {
  readonly optimizer: AdamW;
  readonly scheduler: Scheduler;
  readonly ema: Ema;

  constructor(readonly settings: OptimSettingsResolved, o: OptimisationOptions) {
    const { lr, weightDecay } = settings;
    this.optimizer = new AdamW(o.params, { lr, betas: o.betas, weightDecay });
    this.scheduler = new Scheduler(this.optimizer, this.schedule(o.steps));
    this.ema = new Ema(o.averaged, o.ema ?? { decay: settings.emaDecay, warmup: true });
    this.#clipped = o.clipped;
    this.#steps = o.steps;
    this.#scaler = o.precision?.scaler ?? null;
  }

  readonly #clipped: Tensor[];
  readonly #steps: number;
  readonly #scaler: GradScaler | null;

  /**
   * The rate this optimisation follows: warm-up, then cosine from lr down to
   * min(lrMin, lr). `peak` gives the same shape for another optimizer (the
   * post-training discriminator's), its floor in the same ratio to its peak.
   */
  schedule(steps = this.#steps, peak?: number): LrSchedule {
    const { lr, lrMin, warmupFraction } = this.settings;
    const floor = Math.min(lrMin, lr);
    const warmupSteps = Math.round(warmupFraction * steps);
    if (peak === undefined) return warmupCosine({ lr, lrMin: floor, warmupSteps, totalSteps: steps });
    return warmupCosine({ lr: peak, lrMin: lr > 0 ? peak * (floor / lr) : 0, warmupSteps, totalSteps: steps });
  }

  /**
   * Backward of `loss` and one AdamW step at the scheduled rate, after the
   * clip; returns the rate used and the gradient norm before clipping (a
   * scalar tensor in the caller's scope; null with clipping off). With fp16,
   * backward runs on the scaled loss, and a step whose gradients overflowed
   * is `skipped` (no AdamW update; the schedule still moves on, as with
   * PyTorch's GradScaler).
   */
  update(loss: Tensor): { lr: number; gradNorm: Tensor | null; skipped?: true } {
    return phase('update', () => {
      phase('zero grad', () => this.optimizer.zeroGrad());
      const scaler = this.#scaler;
      const finite = phase('backward', () => {
        if (scaler) return scaler.backward(loss, this.optimizer.paramGroups.flatMap((g) => g.params));
        loss.backward();
        return true;
      });
      if (!finite) {
        const lr = this.optimizer.paramGroups[0]!.lr;
        this.scheduler.step();
        return { lr, gradNorm: null, skipped: true };
      }
      const { clipNorm } = this.settings;
      const gradNorm = clipNorm > 0 ? phase('clip', () => clipGradNorm(this.#clipped, clipNorm)) : null;
      const lr = this.optimizer.paramGroups[0]!.lr;
      phase('AdamW', () => this.optimizer.step());
      this.scheduler.step();
      return { lr, gradNorm };
    });
  }

  /** Moves the EMA toward the weights just updated. */
  average(): void {
    phase('EMA', () => this.ema.update());
  }

  /** Checkpoint parts, under the names every trainer's checkpoints use (fp16 adds its loss scale). */
  parts(): Record<'optimizer' | 'scheduler' | 'ema', Stateful> & { scaler?: Stateful } {
    return { optimizer: this.optimizer, scheduler: this.scheduler, ema: this.ema, ...(this.#scaler ? { scaler: this.#scaler } : {}) };
  }

  dispose(): void {
    this.optimizer.dispose();
    this.ema.dispose();
  }
}
