// Training checkpoints: everything needed to continue a run exactly, in one
// safetensors file — model (and EMA) weights, optimizer and schedule state,
// step/epoch, the global RNG state and the resolved config. Written
// atomically (temp file, fsync, rename), so a crash mid-write leaves the
// previous checkpoint intact. Tensors are stored as `<part>.<name>`; the
// parts' JSON state, step, epoch and config go in the safetensors metadata.
// Weights are checked both ways (weight_checks.ts): a checkpoint is never
// written with NaN or infinite values, so the file on disk stays the last good
// one, and one that holds them, or integers where the run keeps floats, is
// refused on loading.
import { existsSync } from 'node:fs';
import { Module } from '../nn/index.js';
import type { Stateful, TrainState } from '../optim/index.js';
import { type Tensor, getRngState, isFloatingPoint, loadSafetensors, saveSafetensors, setRngState } from '../torch/index.js';
import { refuseIntegerWeights, refuseNonFiniteWeights } from './weight_checks.js';

const FORMAT = 'robustok-checkpoint/1';
const RNG_KEY = 'rng.cpu';

/** What a checkpoint holds besides tensors. */
export interface Progress {
  step: number;
  epoch: number;
  /** The resolved run configuration (plain JSON), stored for reproducibility. */
  config?: unknown;
}

/** Named parts of a run: modules (weights) and stateful objects (optimizers, schedules, EMA). */
export type CheckpointParts = Record<string, Module | Stateful>;

interface Header extends Progress {
  format: string;
  /** Per part: its JSON state (modules: their class name). */
  parts: Record<string, Record<string, unknown>>;
}

function stateOf(part: Module | Stateful): TrainState {
  if (part instanceof Module) return { tensors: part.stateDict(), meta: { kind: part.constructor.name } };
  return part.stateDict();
}

/** Saves the run's state to `file` atomically. */
export function saveCheckpoint(file: string, parts: CheckpointParts, progress: Progress): void {
  const tensors: Record<string, Tensor> = {};
  const header: Header = { format: FORMAT, step: progress.step, epoch: progress.epoch, config: progress.config ?? null, parts: {} };
  for (const [name, part] of Object.entries(parts)) {
    if (name.includes('.') || name === 'rng') throw new Error(`checkpoint part name '${name}' must not contain '.' or be 'rng'`);
    const state = stateOf(part);
    header.parts[name] = state.meta;
    for (const [key, t] of Object.entries(state.tensors)) tensors[`${name}.${key}`] = t;
  }
  refuseNonFiniteWeights(file, Object.entries(tensors), 'is not written',
    `the weights broke${existsSync(file) ? ` since the last save, which ${file} still holds` : ''}`);
  const rng = getRngState();
  try {
    tensors[RNG_KEY] = rng;
    saveSafetensors(file, tensors, { robustok: JSON.stringify(header) });
  } finally {
    rng.dispose();
  }
}

/** The header of a checkpoint (step, epoch, config, part names) without restoring anything. */
export function readProgress(file: string): Progress & { parts: string[] } {
  const { tensors, metadata } = loadSafetensors(file);
  for (const t of Object.values(tensors)) t.dispose();
  const header = parseHeader(file, metadata);
  return { step: header.step, epoch: header.epoch, config: header.config, parts: Object.keys(header.parts) };
}

/**
 * Restores every part (strictly: a part missing from the file, or a file
 * part this run does not have, is an error naming it) and the RNG state,
 * and returns the saved progress.
 */
export function loadCheckpoint(file: string, parts: CheckpointParts): Progress {
  const { tensors, metadata } = loadSafetensors(file);
  try {
    const header = parseHeader(file, metadata);
    const saved = Object.keys(header.parts);
    const missing = Object.keys(parts).filter((p) => !saved.includes(p));
    const extra = saved.filter((p) => !(p in parts));
    if (missing.length + extra.length > 0) {
      throw new Error(`checkpoint ${file}: ${missing.length ? `has no ${missing.join(', ')}` : ''}` +
        `${missing.length && extra.length ? '; ' : ''}${extra.length ? `has parts this run lacks: ${extra.join(', ')}` : ''}`);
    }
    checkTensors(file, tensors, parts);
    restoreParts(file, tensors, header, parts);
    const rng = tensors[RNG_KEY];
    if (!rng) throw new Error(`checkpoint ${file} has no RNG state (${RNG_KEY})`);
    setRngState(rng);
    return { step: header.step, epoch: header.epoch, config: header.config };
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

/** Loads each part from its `<part>.`-prefixed tensors and its JSON state. */
function restoreParts(file: string, tensors: Record<string, Tensor>, header: Header, parts: CheckpointParts): void {
  for (const [name, part] of Object.entries(parts)) {
    const prefix = `${name}.`;
    const own = Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
    try {
      if (part instanceof Module) part.loadStateDict(own);
      else part.loadStateDict({ tensors: own, meta: header.parts[name]! });
    } catch (error) {
      throw new Error(`checkpoint ${file}, part '${name}': ${(error as Error).message}`, { cause: error });
    }
  }
}

/**
 * Refuses a file tensor that is not floating point where the run's own tensor
 * of that name is, then any NaN or infinite value: model, EMA, discriminator
 * and optimizer state alike.
 */
function checkTensors(file: string, tensors: Record<string, Tensor>, parts: CheckpointParts): void {
  const fix = 'the file is damaged or was written by something else: resume from another checkpoint, or delete it to start afresh';
  for (const [name, part] of Object.entries(parts)) {
    const floats = Object.entries(stateOf(part).tensors).filter(([, t]) => isFloatingPoint(t.dtype)).map(([key]) => `${name}.${key}`);
    const stored = floats.flatMap((key): [string, Tensor][] => (tensors[key] ? [[key, tensors[key]]] : []));
    refuseIntegerWeights(file, stored, `this run's '${name}' holds it as floating point`, fix);
  }
  refuseNonFiniteWeights(file, Object.entries(tensors), 'cannot be resumed',
    'it was saved after the weights broke: resume from an earlier copy, or delete it to start afresh');
}

/**
 * The checkpoint's metadata, checked: a damaged or hand-edited header must
 * fail here, naming the file and the field, not later as a negative count
 * deep inside the trainer. (A step past the run's total is the trainer's to
 * judge: only it knows the total.)
 */
function parseHeader(file: string, metadata: Record<string, string>): Header {
  const text = metadata.robustok;
  if (text === undefined) throw new Error(`${file} is a safetensors file but not a robustok checkpoint (no 'robustok' metadata)`);
  let header: Header;
  try {
    header = JSON.parse(text) as Header;
  } catch {
    throw new Error(`${file}: the checkpoint header is not valid JSON`);
  }
  const fix = 'the file is damaged or was edited: resume from another checkpoint, or delete it to start afresh';
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${file}: the checkpoint header is ${JSON.stringify(header)}, not an object — ${fix}`);
  }
  if (header.format !== FORMAT) throw new Error(`${file}: checkpoint format '${header.format}', this robustok reads '${FORMAT}'`);
  for (const key of ['step', 'epoch'] as const) {
    const value: unknown = header[key];
    if (value === undefined) throw new Error(`${file}: the checkpoint header lacks '${key}' — ${fix}`);
    if (!Number.isSafeInteger(value) || (value as number) < 0) {
      throw new Error(`${file}: the checkpoint's ${key} is ${JSON.stringify(value)}; it must be a non-negative integer — ${fix}`);
    }
  }
  if (typeof header.parts !== 'object' || header.parts === null || Array.isArray(header.parts)) {
    throw new Error(`${file}: the checkpoint header lacks its parts (an object per saved model or optimizer) — ${fix}`);
  }
  return header;
}

/**
 * Restores only the named parts of a checkpoint (each must be in it), and
 * neither the RNG state nor the progress: a part of another run taken as a
 * starting point (post-training continues main training's discriminator).
 */
export function loadCheckpointParts(file: string, parts: CheckpointParts): void {
  const { tensors, metadata } = loadSafetensors(file);
  try {
    const header = parseHeader(file, metadata);
    const missing = Object.keys(parts).filter((p) => !(p in header.parts));
    if (missing.length > 0) throw new Error(`checkpoint ${file} has no ${missing.join(', ')} (it has ${Object.keys(header.parts).join(', ')})`);
    restoreParts(file, tensors, header, parts);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}
