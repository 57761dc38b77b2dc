// Runs a list of stages in dependency order, at most `jobs` at a time. A
// stage starts once every input that is itself in the list has finished
// (inputs outside the list were run by an earlier call); among the ready ones
// the list's order decides, so a tokenizer's evaluation follows it closely and
// early numbers appear early. After an interruption or an error no new stage
// starts; the running ones are left to end (they save a checkpoint), and the
// first error is thrown once they have.
import type { StageOutcome } from './runner.js';
import type { StageSpec } from './stage_record.js';

export type StageStarter = (spec: StageSpec) => Promise<StageOutcome>;

export interface Scheduled {
  outcomes: StageOutcome[];
  /** True when a stage was interrupted or `stop()` said so before every stage ran. */
  interrupted: boolean;
}

/**
 * @param start runs one stage (in this process or a child)
 * @param stop  asked before each start: true ends the schedule (an abort)
 */
export async function runScheduled(stages: readonly StageSpec[], jobs: number, start: StageStarter, stop: () => boolean): Promise<Scheduled> {
  if (!(Number.isInteger(jobs) && jobs >= 1)) throw new RangeError(`jobs must be a positive integer, got ${jobs}`);
  const inList = new Set(stages.map((s) => s.id));
  const finished = new Set<string>();
  const waiting = [...stages];
  const running = new Map<string, Promise<void>>();
  const outcomes: StageOutcome[] = [];
  let halted = false;
  let failure: unknown = null;

  const ready = (s: StageSpec) => s.inputs.every((i) => !inList.has(i.id) || finished.has(i.id));
  const launch = (s: StageSpec) => {
    const run = start(s).then((outcome) => {
      outcomes.push(outcome);
      if (outcome.status === 'interrupted') halted = true;
      else finished.add(s.id);
    }, (error: unknown) => {
      failure ??= error;
      halted = true;
    }).finally(() => running.delete(s.id));
    running.set(s.id, run);
  };

  for (;;) {
    while (!halted && running.size < jobs) {
      if (stop()) { halted = true; break; }
      const next = waiting.findIndex(ready);
      if (next < 0) break;
      launch(waiting.splice(next, 1)[0]!);
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  if (failure !== null) throw failure;
  if (!halted && waiting.length > 0) throw new Error(`stages never became ready (an input outside the graph?): ${waiting.map((s) => s.id).join(', ')}`);
  return { outcomes, interrupted: halted };
}
