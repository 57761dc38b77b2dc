// What a run function does differently as one rank of a data-parallel run
// (`robustok launch`, src/train/distributed.ts): it joins the other ranks,
// and only rank 0 writes to the run folder and talks to the user.
import { DataParallel, rankEnvFrom } from '../train/index.js';
import type { RunEvents } from './events.js';
import { RunFolder } from './run_folder.js';

/** This process's place in a data-parallel run from torchrun's environment (blocks until all ranks joined), or null. */
export function joinDataParallel(env: NodeJS.ProcessEnv = process.env): DataParallel | null {
  const rank = rankEnvFrom(env);
  return rank ? DataParallel.init(rank) : null;
}

/** Rank 0 (or a single process) opens and locks the folder; the other ranks follow it. */
export function openRunFolder(dir: string, parallel: DataParallel | null, log: (message: string) => void): RunFolder {
  return parallel && !parallel.isMain ? RunFolder.follow(dir) : RunFolder.open(dir, { log });
}

/** The events of a rank: rank 0's as given; the others keep only the stop signal. */
export function rankEvents(events: RunEvents | undefined, parallel: DataParallel | null): RunEvents | undefined {
  return parallel && !parallel.isMain ? { signal: events?.signal } : events;
}

/** For run functions not yet data-parallel: started by `robustok launch` with more than one rank, they say so. */
export function refuseDataParallel(command: string, env: NodeJS.ProcessEnv = process.env): void {
  const rank = rankEnvFrom(env);
  if (rank) throw new Error(`${command} does not train data-parallel yet (WORLD_SIZE=${rank.worldSize}); run it as one process (robustok launch --nproc 1, or without launch)`);
}
