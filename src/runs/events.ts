// How a run talks to whoever started it. The CLI draws progress bars and
// turns SIGINT/SIGTERM into `signal`; the coming pipeline and web server
// will forward the same events to their own views. Runs never print.

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

/** How a run ended when it was not by an error. */
export type RunEnd = { status: 'done' } | { status: 'interrupted'; reason: string };

/** `events` with every member present, so runs need no `?.` on each call. */
export function withDefaults(events: RunEvents = {}): Required<Pick<RunEvents, 'progress' | 'log'>> & RunEvents {
  return { progress: () => {}, log: () => {}, ...events };
}

/** The abort reason as words ('SIGTERM', 'aborted'). */
export const abortReason = (signal: AbortSignal | undefined): string =>
  signal?.reason === undefined ? 'aborted' : signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
