// The resolved layer configs of a reproduction: every tokenizer of the sweep,
// the generator and the post-training config, per seed (train.seed = the
// seed, set last so that no override can split a run from its seed). All of
// them are resolved up front, so a bad override anywhere fails before the
// first stage trains, with every problem listed at once.
import path from 'node:path';
import { ConfigError, type Group, type Infer, loadConfigFile, resolveConfig } from '../config/index.js';
import { type GeneratorConfig, generatorSchema } from '../generator/index.js';
import { type PosttrainConfig, posttrainSchema } from '../posttrain/index.js';
import { type TokenizerConfig, tokenizerConfigIssues, tokenizerSchema } from '../tokenizer/index.js';
import type { ReproducePreset } from './preset.js';
import { runsOn } from './sweep_field.js';

export interface LayerConfigs {
  tokenizer(variant: string, seed: number): TokenizerConfig;
  generator(seed: number): GeneratorConfig;
  posttrain(seed: number): PosttrainConfig;
  /** Whether a sweep entry trains with latent perturbation (docs/method.md §2). */
  perturbed(variant: string): boolean;
  /** The dataset every tokenizer trains on (and every FID is measured on). */
  data: string;
}

/** `schema` from a preset file and overrides, the seed last; problems are pushed with `where` in front. */
function resolveLayer<G extends Group>(schema: G, file: string, sets: readonly string[], seed: number, where: string, issues: string[]): Infer<G> | null {
  try {
    return resolveConfig(schema, [loadConfigFile(file)], [...sets, `train.seed=${seed}`]) as Infer<G>;
  } catch (error) {
    if (error instanceof ConfigError) issues.push(...error.issues.map((i) => `${where}: ${i}`));
    else issues.push(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

export function layerConfigs(p: ReproducePreset): LayerConfigs {
  const c = p.config;
  const at = (file: string) => path.resolve(path.dirname(p.file), file);
  const issues: string[] = [];
  const tokenizers = new Map<string, TokenizerConfig>();
  const generators = new Map<number, GeneratorConfig>();
  const posttrains = new Map<number, PosttrainConfig>();
  for (const seed of c.seeds) {
    c.tokenizer.sweep.forEach((v, i) => {
      if (!runsOn(v, seed)) return;
      const where = `tokenizer.sweep[${i}] (${v.name})`;
      const cfg = resolveLayer(tokenizerSchema, at(c.tokenizer.preset), [...c.tokenizer.set, ...v.set], seed, where, issues);
      if (cfg) issues.push(...tokenizerConfigIssues(cfg).map((m) => `${where}: ${m}`));
      if (cfg) tokenizers.set(`${v.name}/${seed}`, cfg);
    });
    const g = resolveLayer(generatorSchema, at(c.generator.preset), c.generator.set, seed, 'generator', issues);
    if (g) generators.set(seed, g);
    const pt = resolveLayer(posttrainSchema, at(c.posttrain.preset), c.posttrain.set, seed, 'posttrain', issues);
    if (pt) posttrains.set(seed, pt);
  }
  const first = [...tokenizers.values()][0];
  const data = first?.data.name ?? '';
  for (const [key, cfg] of tokenizers) {
    if (cfg.data.name !== data) issues.push(`tokenizer.sweep (${key.split('/')[0]}): data.name '${cfg.data.name}' differs from '${data}': every tokenizer of a reproduction is measured on one dataset`);
  }
  for (const g of generators.values()) if (first && g.data.name !== data) issues.push(`generator: data.name '${g.data.name}' is not the tokenizers' '${data}'`);
  for (const pt of posttrains.values()) if (first && pt.data.name !== '' && pt.data.name !== data) issues.push(`posttrain: data.name '${pt.data.name}' is not the tokenizers' '${data}'`);
  // An entry's config differs between seeds only in train.seed; its first seed speaks for it.
  const firstOf = (name: string) => [...tokenizers].find(([key]) => key.split('/')[0] === name)?.[1];
  const perturbed = (name: string) => firstOf(name)?.perturbation.enabled === true;
  if (firstOf(c.tokenizer.baseline) && perturbed(c.tokenizer.baseline)) {
    issues.push(`tokenizer.baseline: '${c.tokenizer.baseline}' trains with perturbation.enabled = true; the baseline of claim 1 needs it off`);
  }
  c.analysis.perturbed.forEach((name, i) => {
    if (firstOf(name) && !perturbed(name)) issues.push(`analysis.perturbed[${i}]: '${name}' trains without latent perturbation`);
  });
  if (issues.length > 0) throw new ConfigError(issues);
  const get = <K, V>(map: Map<K, V>, key: K, what: string): V => {
    const v = map.get(key);
    if (v === undefined) throw new RangeError(`no ${what} config for ${String(key)} in this reproduction`);
    return v;
  };
  return {
    tokenizer: (variant, seed) => get(tokenizers, `${variant}/${seed}`, 'tokenizer'),
    generator: (seed) => get(generators, seed, 'generator'),
    posttrain: (seed) => get(posttrains, seed, 'post-training'),
    perturbed,
    data,
  };
}
