// A stage child that stops itself once a given progress step is reached
// (ROBUSTOK_STOP_AT="LABEL@STEP", e.g. "train-generator/delta4-s0 train@5").
// Why: a stop sent by the parent when it hears of step N reaches the child a
// moment later, when the child may already be past step N (under load it
// lands a step later), so a test that stops and resumes a child could not
// know from which step it resumes. Checked in the child, between its steps,
// the stop lands at step N exactly, as an in-process abort from a progress
// callback does. For tests; a user stops a run with Ctrl-C or SIGTERM.
import type { ProgressEvent } from '../runs/index.js';

export interface StopAt {
  /** The progress label, with the stage id as the parent sees it. */
  label: string;
  step: number;
}

/** ROBUSTOK_STOP_AT's value; undefined when unset or empty. */
export function parseStopAt(value: string | undefined): StopAt | undefined {
  if (value === undefined || value === '') return undefined;
  const at = value.lastIndexOf('@');
  const step = Number(value.slice(at + 1));
  if (at <= 0 || !Number.isInteger(step) || step < 1) {
    throw new RangeError(`ROBUSTOK_STOP_AT must be LABEL@STEP with a positive integer step (e.g. "train-generator/delta4-s0 train@5"), got '${value}'`);
  }
  return { label: value.slice(0, at), step };
}

/** Aborts `controller` (as SIGTERM does) at the first event of `stop.label` with done ≥ `stop.step`. */
export const stopWhenReached = (stop: StopAt | undefined, controller: AbortController) => (event: ProgressEvent): void => {
  if (stop && event.label === stop.label && event.done >= stop.step) controller.abort('SIGTERM');
};
