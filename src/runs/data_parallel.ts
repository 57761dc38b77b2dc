// What a run function does differently as one rank of a data-parallel run
// (`robustok launch`, src/train/distributed.ts): it joins the other ranks,
// and only rank 0 writes to the run folder and talks to the user.
import { type Device, manualSeed } from '../torch/index.js';
import { DataParallel, gradientSyncFrom, rankEnvFrom } from '../train/index.js';
import type { RunEvents } from './events.js';
import { RunFolder } from './run_folder.js';

/**
 * This process's place in a data-parallel run from torchrun's environment
 * (blocks until all ranks joined), or null. `device`: where this rank trains
 * (resolveDevice gives each rank the GPU of its local rank).
 */
export function joinDataParallel(device: Device, env: NodeJS.ProcessEnv = process.env): DataParallel | null {
  const rank = rankEnvFrom(env);
  return rank ? DataParallel.init(rank, { device, sync: gradientSyncFrom(env) }) : null;
}

/** Rank 0 (or a single process) opens and locks the folder; the other ranks follow it. */
export function openRunFolder(dir: string, parallel: DataParallel | null, log: (message: string) => void): RunFolder {
  return parallel && !parallel.isMain ? RunFolder.follow(dir) : RunFolder.open(dir, { log });
}

/** The events of a rank: rank 0's as given; the others keep only the stop signal. */
export function rankEvents(events: RunEvents | undefined, parallel: DataParallel | null): RunEvents | undefined {
  return parallel && !parallel.isMain ? { signal: events?.signal } : events;
}

/** This rank's share of each global batch, for a loader or trainer (undefined for a single process). */
export function shardOf(parallel: DataParallel | null): { rank: number; worldSize: number } | undefined {
  return parallel ? { rank: parallel.rank, worldSize: parallel.worldSize } : undefined;
}

/**
 * Gives each rank its own default random stream once the weights are drawn
 * (they are drawn alike on every rank, and rank 0's are broadcast anyway):
 * what draws from it while training, dropout, must differ between ranks, or
 * every rank would drop the same units of its own images. The paper's
 * released training scripts seed rank r with global_seed·W + r likewise. A
 * single process keeps its stream.
 */
export function seedRankStream(parallel: DataParallel | null, seed: number): void {
  if (parallel) manualSeed(seed * parallel.worldSize + parallel.rank);
}

/**
 * Runs `prepare` on rank 0 first and then, once it is done, on the other
 * ranks: for a cache in the run folder (token sets, σ-tokens) that rank 0
 * writes and the others then find, rather than all ranks writing one file at
 * once. A failure on rank 0 ends every rank (the others would otherwise wait
 * for it until the timeout). On machines that share no disk, the other ranks
 * compute the same cache for themselves: it is a function of the inputs.
 */
export async function mainRankFirst<T>(parallel: DataParallel | null, prepare: () => Promise<T>): Promise<T> {
  if (!parallel) return prepare();
  if (!parallel.isMain) {
    if (parallel.any(false)) throw new Error('rank 0 failed while preparing the run (its error says why)');
    return prepare();
  }
  let failure: { error: unknown } | null = null;
  let result: T | undefined;
  try {
    result = await prepare();
  } catch (error) {
    failure = { error };
  }
  if (parallel.any(failure !== null)) throw failure!.error;
  return result!;
}
