// Running one stage: hash its config and its inputs' outputs, decide from its
// record (decision.ts), and skip, continue or start it in its own folder. The
// record says 'running' before any work and 'done' (with the hash of the
// outputs) only after the outputs are written, so whatever stops the process
// leaves a record the next run reads correctly.
import { mkdirSync, rmSync } from 'node:fs';
import type { ProgressEvent, RunEvents } from '../runs/index.js';
import type { Device } from '../torch/index.js';
import { decide } from './decision.js';
import { filesHash, stageHash } from './hash.js';
import { type StageRecord, type StageSpec, readRecord, writeRecord } from './stage_record.js';

export interface StageOutcome {
  id: string;
  status: 'skipped' | 'done' | 'interrupted';
  /** Minutes this call spent (0 when skipped); the record holds the total. */
  minutes: number;
}

/** The events of `events` with the stage's id on every line and progress label. */
export function stageEvents(id: string, events: RunEvents): RunEvents {
  return {
    signal: events.signal,
    log: (message) => events.log?.(`${id}: ${message}`),
    progress: (e: ProgressEvent) => events.progress?.({ ...e, label: `${id} ${e.label}` }),
  };
}

/** The output hash of a finished stage, as its dependents see it now (the files on disk, not the record). */
export const outputsHash = (spec: StageSpec): string => filesHash(spec.dir, spec.outputs);

export async function runStage(spec: StageSpec, events: RunEvents, device: Device = 'cpu'): Promise<StageOutcome> {
  const log = (m: string) => events.log?.(`${spec.id}: ${m}`);
  const inputs = Object.fromEntries(spec.inputs.map((s) => [s.id, outputsHash(s)]));
  const hash = stageHash(spec.kind, spec.config, inputs);
  const record = readRecord(spec.dir);
  const decision = decide(spec, hash, inputs, record);
  if (decision.action === 'skip') {
    const edited = record?.outputs !== undefined && record.outputs !== outputsHash(spec);
    log(`skipped (done ${record?.finishedAt}, same config and inputs)${edited ? '; its outputs changed since (edited?): kept, and the stages that read them rerun' : ''}`);
    return { id: spec.id, status: 'skipped', minutes: 0 };
  }
  log(decision.reason);
  const resume = decision.action === 'resume';
  if (!resume) rmSync(spec.dir, { recursive: true, force: true });  // a fresh start: no checkpoint or outputs of another config
  mkdirSync(spec.dir, { recursive: true });
  const base: StageRecord = {
    id: spec.id, kind: spec.kind, name: spec.name, seed: spec.seed, hash, config: spec.config, inputs,
    status: 'running', startedAt: resume && record ? record.startedAt : new Date().toISOString(), minutes: resume && record ? record.minutes : 0,
  };
  writeRecord(spec.dir, base);
  const started = performance.now();
  const end = await spec.run({ resume, events: stageEvents(spec.id, events), device });
  const minutes = (performance.now() - started) / 60000;
  if (end.status === 'interrupted') {
    writeRecord(spec.dir, { ...base, minutes: base.minutes + minutes });
    log(`interrupted (${end.reason}): continue with --resume`);
    return { id: spec.id, status: 'interrupted', minutes };
  }
  writeRecord(spec.dir, { ...base, status: 'done', finishedAt: new Date().toISOString(), minutes: base.minutes + minutes, outputs: outputsHash(spec) });
  log(`done in ${minutes.toFixed(1)} min`);
  return { id: spec.id, status: 'done', minutes };
}
