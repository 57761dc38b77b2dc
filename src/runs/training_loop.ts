// The loop every trainer's run shares: resume or start the metrics, call the
// trainer's step until the run's total or an abort, log metrics and progress
// at the run's cadence, write sample grids and checkpoints, follow the cores
// other processes free or take, and apply the non-finite-loss policy (stop
// naming the last good checkpoint, or skip at most 100 bad batches in a row).
// Trainers differ in their step and their data, not in any of this. In a
// data-parallel run (src/train/distributed.ts) every rank runs this loop:
// rank 0's weights go to all (its buffers after every step), logged numbers
// are means over the ranks, a stop on any rank stops all at the same step, and
// rank 0 alone writes samples and checkpoints, between barriers.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Batch, DataLoader } from '../data/index.js';
import { getNumThreads, phase, profile, threadGovernor } from '../torch/index.js';
import { type CheckpointParts, type DataParallel, NonFiniteLossError, NonFiniteWeightsError, loadCheckpoint, readProgress, saveCheckpoint } from '../train/index.js';
import type { RunEvents, withDefaults } from './events.js';
import type { RunFolder } from './run_folder.js';

/** Bad batches skipped in a row before a `skip` run gives up: past this the model itself is broken. */
const MAX_SKIPPED_IN_A_ROW = 100;

export interface Steppable<M extends { step: number; loss: number }> {
  stepCount: number;
  parts(): CheckpointParts;
  /** One step; throws NonFiniteLossError for a bad batch, before any update. */
  step(): M | Promise<M>;
}

export interface LoopOptions<M extends { step: number; loss: number }> {
  folder: RunFolder;
  events: ReturnType<typeof withDefaults> & RunEvents;
  trainer: Steppable<M>;
  /** Continue the folder's checkpoint (it exists). */
  resuming: boolean;
  asked: boolean;
  train: { steps: number; logEvery: number; sampleEvery: number; checkpointEvery: number; nonFinite: 'stop' | 'skip' };
  /** Passes over the data per step count (checkpoints record the epoch). */
  batchesPerEpoch: number;
  /** Images or tokens a step processes, and their unit for the rate logged (`imagesPerSecond`, `tokensPerSecond`). */
  rate: { perStep: number; key: string };
  /** Progress-bar detail of a logged step. */
  detail(m: M): string;
  /** Writes a sample grid for `step`. */
  samples(step: number): Promise<void>;
  /** The resolved config, stored with each checkpoint. */
  config: unknown;
  /** A skipped bad batch: move past it (the generator's cursor is its step count). */
  onSkip?(): void;
  /** This process's rank of a data-parallel run, or none for a single process. */
  parallel?: DataParallel | null;
}

/** Runs the loop; returns whether it stopped on an abort, and its minutes. Saves a checkpoint at the end either way. */
export async function trainingLoop<M extends { step: number; loss: number }>(o: LoopOptions<M>): Promise<{ aborted: boolean; minutes: number }> {
  const { folder, events, trainer: t, train } = o;
  const { paths } = folder;
  if (o.resuming) {
    t.stepCount = loadCheckpoint(paths.checkpoint, t.parts()).step;
    const dropped = folder.resetMetrics(t.stepCount);
    events.log(`resumed from step ${t.stepCount}${dropped ? ` (${dropped} metrics lines after it dropped: those steps run again)` : ''}`);
  } else {
    if (o.asked) events.log(`no checkpoint in ${paths.dir} yet: starting a new run`);
    folder.resetMetrics();
  }
  const parallel = o.parallel ?? null;
  const main = parallel?.isMain ?? true;
  parallel?.attach(t.parts());
  if (parallel && main) events.log(parallel.describe());
  const epochOf = (step: number) => Math.floor(step / o.batchesPerEpoch);
  let lastSaved = o.resuming ? t.stepCount : null;
  const lastGood = () => (lastSaved === null ? 'no checkpoint was written yet' : `the last good checkpoint is ${paths.checkpoint} (step ${lastSaved})`);
  const save = () => {
    parallel?.barrier();
    try {
      if (main) saveCheckpoint(paths.checkpoint, t.parts(), { step: t.stepCount, epoch: epochOf(t.stepCount), config: o.config });
    } catch (error) {
      // Weights (the EMA's, say) that broke without the loss showing it: the file on disk is left as the last good one.
      if (error instanceof NonFiniteWeightsError) throw new Error(`${error.message}; stopped at step ${t.stepCount}: ${lastGood()}`, { cause: error });
      throw error;
    }
    parallel?.barrier();  // no rank goes on (or ends) before the checkpoint is whole
  };
  const stopAsked = () => (parallel ? parallel.any(events.signal?.aborted === true) : events.signal?.aborted === true);
  const startedAt = performance.now();
  const startStep = t.stepCount;
  let skippedInARow = 0;
  let stopped = false;
  events.progress({ label: 'train', done: startStep, total: train.steps, start: startStep });  // starts the clock of the rate
  while (t.stepCount < train.steps) {
    // A synchronous step never lets the event loop run, and SIGINT/SIGTERM reach the
    // AbortSignal only through it: yield once per step (microseconds) so a stop takes effect at once.
    await new Promise((resolve) => setImmediate(resolve));
    if (stopAsked()) {
      stopped = true;
      break;
    }
    const stepStart = performance.now();
    let m: M;
    try {
      m = await profile.phaseAsync('step', async () => t.step());
      if (parallel) phase('sync buffers', () => parallel.syncBuffers());
      skippedInARow = 0;
    } catch (error) {
      if (!(error instanceof NonFiniteLossError)) throw error;
      const last = lastGood();
      if (train.nonFinite === 'stop') throw new Error(`${error.message}; stopped: ${last}. Lower optim.lr, or set train.nonFinite=skip to skip such batches`, { cause: error });
      skippedInARow += 1;
      o.onSkip?.();
      events.log(`${error.message}: batch skipped (train.nonFinite=skip)`);
      if (skippedInARow >= MAX_SKIPPED_IN_A_ROW) throw new Error(`${MAX_SKIPPED_IN_A_ROW} batches in a row gave a non-finite loss; stopped: ${last}`, { cause: error });
      continue;
    }
    const rate = o.rate.perStep / ((performance.now() - stepStart) / 1000);
    // Cores freed or taken by other processes since the start: follow them (checked every 15 s).
    const threadChange = threadGovernor.maybeAdjust();
    if (threadChange.changed) events.log(threadChange.reason ?? `threads → ${threadChange.threads}`);
    if (m.step % train.logEvery === 0 || m.step === train.steps) {
      m = phase('metrics', () => {
        const threads = getNumThreads();
        const logged = parallel ? parallel.averageNumbers(m) : m;
        folder.appendMetrics({ ...logged, epoch: epochOf(logged.step - 1), [o.rate.key]: rate * (parallel?.worldSize ?? 1), threads });
        events.progress({ label: 'train', done: logged.step, total: train.steps, start: startStep, detail: `${o.detail(logged)} threads ${threads}` });
        return logged;
      });
    }
    const step = m.step;
    if (main && (step % train.sampleEvery === 0 || step === train.steps)) await profile.phaseAsync('sample grids', () => o.samples(step));
    if (step % train.checkpointEvery === 0) {
      phase('checkpoint', save);
      lastSaved = step;
    }
    profile.step();
  }
  if (lastSaved !== t.stepCount) save();  // not twice when the last step was a checkpoint step
  return { aborted: stopped, minutes: (performance.now() - startedAt) / 60000 };
}

/**
 * The loader's batches from step `start` on, epoch after epoch (each epoch's
 * seeded order; a resumed run skips the batches its epoch already used).
 */
export async function* batchesFrom(loader: DataLoader, start: number): AsyncGenerator<Batch> {
  let epoch = Math.floor(start / loader.batchesPerEpoch);
  let skip = start % loader.batchesPerEpoch;
  for (;;) {
    for await (const batch of loader.epoch(epoch)) {
      if (skip > 0) {
        skip -= 1;
        batch.dispose();
        continue;
      }
      yield batch;
    }
    epoch += 1;
  }
}

/**
 * A trainer whose step takes a loader batch, as a Steppable: batches come
 * from `batchesFrom(loader, stepCount)` once the checkpoint (if any) has set
 * the step count. `close()` ends the batch stream.
 */
export function steppingOnBatches<M extends { step: number; loss: number }>(
  trainer: { stepCount: number; parts(): CheckpointParts },
  loader: DataLoader,
  step: (batch: Batch) => M,
): Steppable<M> & { close(): Promise<void> } {
  let batches: AsyncGenerator<Batch> | null = null;
  return {
    get stepCount() { return trainer.stepCount; },
    set stepCount(value: number) { trainer.stepCount = value; },
    parts: () => trainer.parts(),
    async step() {
      batches ??= batchesFrom(loader, trainer.stepCount);
      const { value: batch } = await profile.phaseAsync('data', () => batches!.next());
      try {
        return step(batch as Batch);
      } finally {
        (batch as Batch).dispose();
      }
    },
    async close() {
      await batches?.return(undefined);
    },
  };
}

/**
 * Whether this start continues the folder's checkpoint. Without --resume an
 * existing run is not overwritten; a checkpoint already past the run's total
 * steps is refused before anything is loaded.
 */
export function resumeDecision(checkpoint: string, resume: boolean | undefined, steps: number): boolean {
  const exists = existsSync(checkpoint);
  if (exists && !resume) throw new Error(`${path.dirname(checkpoint)} already holds a run: pass --resume to continue it, or choose another --out`);
  if (!exists || !resume) return false;
  const { step } = readProgress(checkpoint);
  if (step > steps) throw new Error(`${checkpoint} is at step ${step}, past train.steps = ${steps}: raise it (--set train.steps=N) to train further`);
  return true;
}
