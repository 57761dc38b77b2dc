// What a stage of a reproduction is (its kind, spec and id) and its record
// (the builders of each kind are stage_builders.ts). Each stage owns one
// folder, DIR/<kind>/<name>-s<seed>/, and writes stage.json there: the resolved
// config it ran with, the output hashes of the stages it read, the hash of
// both, whether it finished, and (when it did) the hash of its own outputs.
// That record is what lets a later run skip, continue or redo the stage.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunEnd, RunEvents } from '../runs/index.js';
import { type Device, writeFileAtomic } from '../torch/index.js';

/** The stage graph's steps (docs/method.md §2–§6), in the order one tokenizer goes through them. */
export const STAGE_KINDS = ['train-tokenizer', 'eval-tokenizer', 'train-generator', 'eval-generator', 'post-train', 'eval-posttrained', 'post-train-control', 'eval-postcontrol'] as const;
export type StageKind = typeof STAGE_KINDS[number];

export interface StageContext {
  /** Continue the folder's checkpoint (a stage interrupted with the same hash). */
  resume: boolean;
  /** Scoped to the stage: log lines and progress labels carry its id. */
  events: RunEvents;
  /** Where it computes (stage_devices.ts): a placement, not part of its hashed config. */
  device: Device;
}

export interface StageSpec {
  kind: StageKind;
  /** The sweep entry (tokenizer) the stage belongs to. */
  name: string;
  seed: number;
  /** `<kind>/<name>-s<seed>`: the folder under DIR, and how logs name the stage. */
  id: string;
  dir: string;
  /** The resolved config it runs with (a layer config, or the evaluation settings). */
  config: object;
  /** Stages whose outputs it reads. */
  inputs: readonly StageSpec[];
  /** Files in `dir` that exist when it is done; their contents are what dependent stages hash. */
  outputs: readonly string[];
  /** A trainer, which continues from its checkpoint; an evaluation simply runs again. */
  resumable: boolean;
  run(context: StageContext): Promise<RunEnd>;
}

export const stageId = (kind: StageKind, name: string, seed: number): string => `${kind}/${name}-s${seed}`;

/** What stage.json holds. */
export interface StageRecord {
  id: string;
  kind: StageKind;
  name: string;
  seed: number;
  /** stageHash(kind, config, inputs). */
  hash: string;
  config: object;
  /** Output hash of each input stage, by id, as they were when this stage started. */
  inputs: Record<string, string>;
  status: 'running' | 'done';
  startedAt: string;
  finishedAt?: string;
  /** Minutes spent, summed over interrupted and resumed attempts. */
  minutes: number;
  /** filesHash of `outputs` when it finished. */
  outputs?: string;
}

export const recordFile = (dir: string): string => path.join(dir, 'stage.json');

/** The stage's record, or null when there is none (or it is torn: the stage is then redone). */
export function readRecord(dir: string): StageRecord | null {
  const file = recordFile(dir);
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<StageRecord>;
    return typeof r.hash === 'string' && (r.status === 'running' || r.status === 'done') && typeof r.config === 'object' ? r as StageRecord : null;
  } catch {
    return null;
  }
}

export function writeRecord(dir: string, record: StageRecord): void {
  writeFileAtomic(recordFile(dir), [Buffer.from(`${JSON.stringify(record, null, 2)}\n`)]);
}
