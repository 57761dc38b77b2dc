// A run's resolved config: the one its folder recorded when resuming (so a
// resumed run trains on exactly what it started with), else the preset over
// what the run inherits from its inputs (post-training: the tokenizer's loss
// settings); `--set` overrides on top; one schema validates all of it.
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
}

export function resolveRunConfig<G extends Group>(schema: G, dir: string, o: RunConfigSources): Infer<G> {
  const saved = runPaths(dir).config;
  if (o.resume && existsSync(saved)) return resolveConfig(schema, [readJsonObject(saved, 'the config this run trained with')], [...(o.sets ?? [])]) as Infer<G>;
  if (o.preset === undefined) throw new Error(o.missing);
  return resolveConfig(schema, [...(o.inherited ? [o.inherited] : []), o.preset], [...(o.sets ?? [])]) as Infer<G>;
}
