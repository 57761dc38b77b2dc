// The feature network that scores a tokenizer never sits inside its loss: a
// decoder trained through a network's features learns to please that network,
// so an FID measured by it rewards the optimisation, not the images. The
// networks a tokenizer was trained through are read from its run folder
// (config.json: loss.perceptual with kind = features) and from every folder
// of its lineage (a post-trained tokenizer's source, and so on back).
import { existsSync } from 'node:fs';
import { parseTokenizerRef, readTokenizerLineage } from '../tokenizer/index.js';
import { runPaths } from './layout.js';
import { readJsonObject } from './run_folder.js';

/** The feature networks inside the losses that made the tokenizer `ref` (folder or KIND:PATH), with the config that names each. */
export function lossNetworks(ref: string): { network: string; config: string }[] {
  const found: { network: string; config: string }[] = [];
  const seen = new Set<string>();
  for (let next: string | undefined = ref; next !== undefined && !seen.has(next);) {
    seen.add(next);
    const parsed = parseTokenizerRef(next);
    if (!('folder' in parsed)) break;  // a released file records no losses
    const file = runPaths(parsed.folder).config;
    if (existsSync(file)) {
      const perceptual = ((readJsonObject(file, 'the config the tokenizer trained with') as { loss?: { perceptual?: { kind?: unknown; network?: unknown } } })
        .loss?.perceptual) ?? {};
      if (perceptual.kind === 'features' && typeof perceptual.network === 'string') found.push({ network: perceptual.network, config: file });
    }
    next = existsSync(`${parsed.folder}/tokenizer.json`) ? readTokenizerLineage(parsed.folder)?.from : undefined;
  }
  return found;
}

/** Throws when `features`, the network about to score tokenizer `ref`, is one its training optimised through. */
export function refuseLossNetwork(features: string, ref: string): void {
  const inside = lossNetworks(ref).find((l) => l.network === features);
  if (inside) {
    throw new Error(`--features ${features} cannot score ${ref}: its training used ${features} inside its loss (loss.perceptual.network in ${inside.config}), ` +
      'so a score through it measures what was optimised, not the images; score with another network (e.g. --features nsfwjs-inception or another dataset classifier)');
  }
}
