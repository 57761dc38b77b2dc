// A run's resolved config: the one its folder recorded when resuming (so a
// resumed run trains on exactly what it started with), else the preset over
// what the run inherits from its inputs (post-training: the tokenizer's loss
// settings); `--set` overrides on top; one schema validates all of it. On a
// resume, `--set` may not change what the checkpoint's data order and random
// streams hang on (seeds, data): the run would silently stop being the one it
// continues. Other changes (train.steps to train further, lr) are allowed and
// said. The batch size is one of those: it is per rank, and a checkpoint of
// 2 ranks × 8 continues exactly in 1 process × 16 (the same global batch),
// but config.json does not record the ranks it ran on, so the line says what
// keeps such a change exact instead of refusing it.
import { existsSync } from 'node:fs';
import { type Group, type Infer, resolveConfig } from '../config/index.js';
import { runPaths } from './layout.js';
import { readJsonObject } from './run_folder.js';

export interface RunConfigSources {
  /** The preset, already parsed (e.g. `loadConfigFile(FILE)`), when one was given. */
  preset?: object;
  /** `key.path=value` overrides. */
  sets?: readonly string[];
  /** Resuming: the folder's config.json takes the preset's (and the inherited settings') place. */
  resume?: boolean;
  /** Settings taken from the run's inputs, below the preset. */
  inherited?: object;
  /** Says what to pass when neither exists (e.g. "--config FILE is required"). */
  missing: string;
  /** Where a resume's allowed changes are said. */
  log?: (message: string) => void;
}

/** Keys whose change makes a resume inexact: the data order, the random streams, the images. */
const EXACT = [/(^|\.)seed$/, /^data\./];
const BATCH = /(^|\.)batchSize$/;

/** `value`'s leaves by dotted key. */
function leaves(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) for (const [key, leaf] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(key, leaf);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

export function resolveRunConfig<G extends Group>(schema: G, dir: string, o: RunConfigSources): Infer<G> {
  const paths = runPaths(dir);
  const resuming = o.resume === true && existsSync(paths.config);
  const base = resuming ? readJsonObject(paths.config, 'the config this run trained with') : o.preset;
  if (base === undefined) throw new Error(o.missing);
  const layers = resuming || !o.inherited ? [base] : [o.inherited, base];
  const config = resolveConfig(schema, layers, [...(o.sets ?? [])]) as Infer<G>;
  if (resuming && (o.sets ?? []).length > 0 && existsSync(paths.checkpoint)) {
    const before = leaves(resolveConfig(schema, [base], []));
    const changed = [...leaves(config)].filter(([key, value]) => before.get(key) !== value).map(([key, value]) => ({ key, from: before.get(key) ?? 'unset', to: value }));
    const inexact = changed.find(({ key }) => EXACT.some((pattern) => pattern.test(key)));
    if (inexact) {
      throw new Error(`--resume --set ${inexact.key}=${inexact.to}: ${paths.config} trained with ${inexact.key} = ${inexact.from}, and the checkpoint ` +
        'continues exactly only with the seeds and data it started with; drop that --set, or start a new run in another --out');
    }
    const said = changed.map(({ key, from, to }) => `${key} ${from} → ${to}${BATCH.test(key) ? ' (exact only if ranks × batch size, the global batch, is unchanged)' : ''}`);
    if (said.length > 0) o.log?.(`resuming with changed settings: ${said.join(', ')}`);
  }
  return config;
}
