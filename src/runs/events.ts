// How a run talks to whoever started it. The CLI draws progress bars and
// turns SIGINT/SIGTERM into `signal` (abortOnSignals, below, as does a
// pipeline stage's child process); the pipeline and web server forward the
// same events to their own views. Runs never print.

/** A step of long work: `label` names the phase (train, eval, classifier). */
export interface ProgressEvent {
  label: string;
  done: number;
  total: number;
  /** Units already done before this process started (a resumed run): not part of the rate. */
  start?: number;
  unit?: string;
  /** A short note after the counts (loss, threads). */
  detail?: string;
  /** For plain logs (not a terminal): one line per this many updates (default 1). */
  cadence?: number;
}

export interface RunEvents {
  progress?(event: ProgressEvent): void;
  /** One line for the user: warnings, a resume, where results went. */
  log?(message: string): void;
  /** Aborting stops the run at the next step boundary, after saving a checkpoint. */
  signal?: AbortSignal;
}

/**
 * How a run ended when it was not by an error. `note` says where an
 * interruption came when it was not at a training step (the final evaluation).
 */
export type RunEnd = { status: 'done' } | { status: 'interrupted'; reason: string; note?: string };

/** `events` with every member present, so runs need no `?.` on each call. */
export function withDefaults(events: RunEvents = {}): Required<Pick<RunEvents, 'progress' | 'log'>> & RunEvents {
  return { progress: () => {}, log: () => {}, ...events };
}

/** The abort reason as words ('SIGTERM', 'aborted'). */
export const abortReason = (signal: AbortSignal | undefined): string =>
  signal?.reason === undefined ? 'aborted' : signal.reason instanceof Error ? signal.reason.message : String(signal.reason);

/** The signals that ask a run to stop: Ctrl-C, and SIGTERM from `timeout`, docker stop, Slurm, Kubernetes or a parent process. */
export const stopSignals = ['SIGINT', 'SIGTERM'] as const;
export type StopSignal = (typeof stopSignals)[number];

/**
 * Aborts `controller` with the signal's name ('SIGINT', 'SIGTERM') when this
 * process receives a stop signal; a later signal leaves the first reason.
 * `onSignal` sees every such signal first, with `again` true once the
 * controller is aborted (the CLI quits at once then). Returns the function
 * that removes the handlers.
 */
export function abortOnSignals(controller: AbortController, onSignal?: (signal: StopSignal, again: boolean) => void): () => void {
  const handle = (signal: StopSignal) => {
    onSignal?.(signal, controller.signal.aborted);
    controller.abort(signal);
  };
  for (const s of stopSignals) process.on(s, handle);
  return () => { for (const s of stopSignals) process.off(s, handle); };
}

/** The signal that passes an abort on to a child process: the abort's own reason when it is a stop signal, else SIGTERM. */
export function stopSignalOf(signal: AbortSignal | undefined): StopSignal {
  const reason: unknown = signal?.reason;
  return stopSignals.find((s) => s === reason) ?? 'SIGTERM';
}
