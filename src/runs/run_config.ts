// A run's resolved config: the one its folder recorded when resuming (so a
// resumed run trains on exactly what it started with), else the preset;
// `--set` overrides on top; one schema validates all of it.
import { existsSync } from 'node:fs';
import { type Group, type Infer, resolveConfig } from '../config/index.js';
import { runPaths } from './layout.js';
import { readJsonObject } from './run_folder.js';

export interface RunConfigSources {
  /** The preset, already parsed (e.g. `loadConfigFile(FILE)`), when one was given. */
  preset?: object;
  /** `key.path=value` overrides. */
  sets?: readonly string[];
  /** Resuming: the folder's config.json takes the preset's place. */
  resume?: boolean;
  /** Says what to pass when neither exists (e.g. "--config FILE is required"). */
  missing: string;
}

export function resolveRunConfig<G extends Group>(schema: G, dir: string, o: RunConfigSources): Infer<G> {
  const saved = runPaths(dir).config;
  const base = o.resume && existsSync(saved) ? readJsonObject(saved, 'the config this run trained with') : o.preset;
  if (base === undefined) throw new Error(o.missing);
  return resolveConfig(schema, [base], [...(o.sets ?? [])]) as Infer<G>;
}
