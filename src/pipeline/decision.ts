// What to do with a stage given its folder's record: skip it (done with the
// same config and inputs, outputs present), continue it (interrupted with the
// same hash: a trainer resumes from its checkpoint, so a crash or kill -9
// costs at most one checkpoint interval), or run it from scratch — always
// with a reason the user can read ("config changed: train.steps 30 → 40").
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { canonicalJson } from './hash.js';
import type { StageRecord, StageSpec } from './stage_record.js';

export type Decision =
  | { action: 'skip' }
  | { action: 'resume'; reason: string }
  | { action: 'run'; reason: string };

/** Every leaf of a JSON value by dotted path (lists are leaves: they replace, not merge, in configs). */
function leaves(value: unknown, prefix = '', into = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, into);
  } else {
    into.set(prefix, canonicalJson(value));
  }
  return into;
}

const shorten = (s: string | undefined): string => (s === undefined ? '(none)' : s.length > 40 ? `${s.slice(0, 37)}...` : s);

/** Why a recorded stage differs from the one planned now, in words. */
export function describeChange(record: StageRecord, config: object, inputs: Record<string, string>): string {
  const [before, after] = [leaves(record.config), leaves(config)];
  const keys = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
  const parts: string[] = [];
  if (keys.length > 0) {
    const shown = keys.slice(0, 3).map((k) => `${k} ${shorten(before.get(k))} → ${shorten(after.get(k))}`);
    parts.push(`config changed: ${shown.join(', ')}${keys.length > 3 ? ` (+${keys.length - 3} more)` : ''}`);
  }
  const ids = [...new Set([...Object.keys(record.inputs ?? {}), ...Object.keys(inputs)])];
  const changed = ids.filter((id) => record.inputs?.[id] !== inputs[id]);
  if (changed.length > 0) parts.push(`input${changed.length > 1 ? 's' : ''} ${changed.join(', ')} changed`);
  return parts.length > 0 ? parts.join('; ') : 'its recorded hash does not match its config and inputs (stage.json edited?)';
}

/** The decision for `spec` planned with `hash`, given its folder's record (null: none). */
export function decide(spec: StageSpec, hash: string, inputs: Record<string, string>, record: StageRecord | null): Decision {
  if (record === null) {
    const leftovers = existsSync(spec.dir) && readdirSync(spec.dir).length > 0;
    return { action: 'run', reason: leftovers ? 'its folder has no readable stage.json (a start cut short): starting over' : 'not run yet' };
  }
  if (record.hash !== hash) return { action: 'run', reason: `rerun: ${describeChange(record, spec.config, inputs)}` };
  if (record.status === 'running') {
    return spec.resumable
      ? { action: 'resume', reason: `interrupted (started ${record.startedAt}): continuing from its last checkpoint` }
      : { action: 'run', reason: `interrupted (started ${record.startedAt}): running it again` };
  }
  const missing = spec.outputs.filter((f) => !existsSync(path.join(spec.dir, f)));
  if (missing.length > 0) return { action: 'run', reason: `rerun: outputs missing (${missing.join(', ')})` };
  return { action: 'skip' };
}
