// The terminal's side of a run: progress bars on stderr, log lines, and the
// signals a user or a scheduler sends. SIGINT (Ctrl-C) and SIGTERM (timeout,
// docker stop, Slurm, Kubernetes) both abort the run, which saves a checkpoint
// at the next step boundary; a second signal exits at once. The exit code is
// the shell's convention, 128 + the signal's number.
import { type ProgressEvent, type RunEvents, abortOnSignals } from '../runs/index.js';
import { Progress } from './progress.js';

const exitCodes: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export interface CliEvents extends RunEvents {
  /** Ends the bars and removes the signal handlers. */
  close(): void;
  /** The exit code for an interrupted run (130 for SIGINT, 143 for SIGTERM). */
  exitCode(reason: string): number;
}

export function cliEvents(options: { signals?: boolean } = {}): CliEvents {
  const bars = new Map<string, Progress>();
  const controller = new AbortController();
  const releaseSignals = options.signals === false ? () => {} : abortOnSignals(controller, (signal, again) => {
    if (again) process.exit(exitCodes[signal] ?? 1);
    console.error(`\n${signal}: stopping after this step and saving a checkpoint (send it again to quit at once)`);
  });
  return {
    signal: controller.signal,
    progress(e: ProgressEvent) {
      let bar = bars.get(e.label);
      if (!bar) {
        bar = new Progress(e.total, { label: e.label, unit: e.unit, start: e.start, every: e.cadence });
        bars.set(e.label, bar);
      }
      bar.update(e.done, e.detail);
      if (e.done >= e.total) {
        bar.finish();
        bars.delete(e.label);
      }
    },
    log: (message: string) => console.error(message),
    close() {
      for (const bar of bars.values()) bar.finish();
      bars.clear();
      releaseSignals();
    },
    exitCode: (reason: string) => exitCodes[reason] ?? 1,
  };
}
