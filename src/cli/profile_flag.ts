// `--profile`: the phases of a run timed (src/torch/phase_profile.ts) and
// written beside its results as profile.json (every number) and profile.md
// (the table docs/design.md quotes), the table also printed. One flag-table
// entry shared by the commands that take it.
import os from 'node:os';
import path from 'node:path';
import { getNumThreads, profile, profileTable, writeFileAtomic } from '../torch/index.js';
import { flagTable } from './flags.js';

export const profileFlag = flagTable({
  profile: { help: 'time each phase of the run (data, forward, backward, optimizer, …); writes profile.json and profile.md to the output folder' },
});

/** Starts the clock when asked; a GPU run waits for the device at each phase boundary. */
export function startProfile(asked: boolean | undefined, device = 'cpu'): void {
  if (asked) profile.start({ sync: device !== 'cpu' });
}

/** Writes DIR/profile.json and DIR/profile.md and prints the table, when a profile is running. */
export function finishProfile(dir: string, command: string): void {
  if (!profile.enabled) return;
  const report = profile.report();
  profile.stop();
  const table = profileTable(report);
  // The load average says whether this was a timing: a profile under load is not.
  const json = { command, threads: getNumThreads(), loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))), ...report };
  writeFileAtomic(path.join(dir, 'profile.json'), [Buffer.from(`${JSON.stringify(json, null, 2)}\n`)]);
  writeFileAtomic(path.join(dir, 'profile.md'), [Buffer.from(`# ${command}: where the time went\n\nthreads ${json.threads}, load average ${json.loadAverage.join(' ')}\n\n${table}\n`)]);
  console.error(`${table}\nprofile: ${path.join(dir, 'profile.md')}`);
}
