// The feature networks inside a decoder's loss (docs/method.md §4): the
// perceptual term's (loss.perceptual, kind = features) and the
// discriminator's backbone (loss.gan.network) — loaded for a run, and
// refused as the network that scores the tokenizer they trained: a decoder
// trained through a network's features learns to please that network, so an
// FID measured by it rewards the optimisation, not the images. The networks a
// tokenizer was trained through are read from its run folder (config.json)
// and from every folder of its lineage (a post-trained tokenizer's source,
// and so on back).
import { existsSync } from 'node:fs';
import { type FeatureNetwork, loadFeatureNetwork } from '../features/index.js';
import type { LossConfig } from '../tokenizer/index.js';
import type { Device } from '../torch/index.js';
import { parseTokenizerRef, readTokenizerLineage } from '../tokenizer/index.js';
import { runPaths } from './layout.js';
import { readJsonObject } from './run_folder.js';

/** The feature networks inside the losses that made the tokenizer `ref` (folder or KIND:PATH), with the config and key that name each. */
export function lossNetworks(ref: string): { network: string; config: string; key: string }[] {
  const found: { network: string; config: string; key: string }[] = [];
  const seen = new Set<string>();
  for (let next: string | undefined = ref; next !== undefined && !seen.has(next);) {
    seen.add(next);
    const parsed = parseTokenizerRef(next);
    if (!('folder' in parsed)) break;  // a released file records no losses
    const file = runPaths(parsed.folder).config;
    if (existsSync(file)) {
      const loss = (readJsonObject(file, 'the config the tokenizer trained with') as { loss?: { perceptual?: { kind?: unknown; network?: unknown }; gan?: { enabled?: unknown; network?: unknown } } }).loss;
      const { perceptual = {}, gan = {} } = loss ?? {};
      if (perceptual.kind === 'features' && typeof perceptual.network === 'string') found.push({ network: perceptual.network, config: file, key: 'loss.perceptual.network' });
      if (gan.enabled === true && typeof gan.network === 'string' && gan.network !== '') found.push({ network: gan.network, config: file, key: 'loss.gan.network' });
    }
    next = existsSync(`${parsed.folder}/tokenizer.json`) ? readTokenizerLineage(parsed.folder)?.from : undefined;
  }
  return found;
}

/** Throws when `features`, the network about to score tokenizer `ref`, is one its training optimised through. */
export function refuseLossNetwork(features: string, ref: string): void {
  const inside = lossNetworks(ref).find((l) => l.network === features);
  if (inside) {
    throw new Error(`--features ${features} cannot score ${ref}: its training used ${features} inside its loss (${inside.key} in ${inside.config}), ` +
      'so a score through it measures what was optimised, not the images; score with another network (e.g. --features nsfwjs-inception or another dataset classifier)');
  }
}

/** The networks a loss config names, loaded on the run's `device`: the perceptual term's and the discriminator's backbone (either may be absent). */
export async function loadLossNetworks(loss: LossConfig, device: Device): Promise<{ featureNetwork?: FeatureNetwork; discriminatorNetwork?: FeatureNetwork; dispose(): void }> {
  const { perceptual, gan } = loss;
  const featureNetwork = perceptual.kind === 'features' ? await loadFeatureNetwork(perceptual.network, { weights: perceptual.networkWeights || undefined, device }) : undefined;
  let discriminatorNetwork: FeatureNetwork | undefined;
  try {
    discriminatorNetwork = gan.enabled && gan.network ? await loadFeatureNetwork(gan.network, { weights: gan.networkWeights || undefined, device }) : undefined;
  } catch (error) {
    featureNetwork?.dispose();
    throw error;
  }
  return { featureNetwork, discriminatorNetwork, dispose: () => { featureNetwork?.dispose(); discriminatorNetwork?.dispose(); } };
}
