// `robustok import --kind KIND --weights FILE --out DIR`: a published
// tokenizer's released file (tokenizer/published.ts) written as a robustok
// tokenizer folder, which every command then takes as --tokenizer DIR (and
// post-train can fine-tune). `--tokenizer KIND:FILE` reads the file directly
// instead; importing once saves re-reading a large pickle each time.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PUBLISHED, loadPublished, publishedKinds, saveTokenizer } from '../tokenizer/index.js';
import { readFlags } from './flags.js';

export const importUsage = `usage: robustok import --kind KIND --weights FILE --out DIR

Reads a published tokenizer from the file its authors released and writes
DIR/tokenizer.json (architecture, and the images it was trained on) and
DIR/tokenizer.safetensors (its weights, upstream names). Kinds and files:
${publishedKinds.map((k) => `  ${k.padEnd(18)}${PUBLISHED[k].files}`).join('\n')}
Any command also takes --tokenizer KIND:FILE directly.`;

export async function importCommand(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(importUsage);
    return;
  }
  const args: { kind?: string; weights?: string; out?: string } = {};
  readFlags(argv, importUsage, (flag, read) => {
    if (flag === '--kind') args.kind = read.value();
    else if (flag === '--weights') args.weights = read.value();
    else if (flag === '--out') args.out = read.value();
    else return false;
    return true;
  });
  for (const key of ['kind', 'weights', 'out'] as const) {
    if (!args[key]) throw new Error(`--${key} is required\n\n${importUsage}`);
  }
  const { model, image, spec, ignored } = loadPublished(args.kind!, args.weights!);
  try {
    mkdirSync(args.out!, { recursive: true });
    saveTokenizer(args.out!, model, image);
    const params = model.namedParameters().reduce((n, [, t]) => n + t.numel, 0);
    console.log(`${spec.title}: ${(params / 1e6).toFixed(1)}M parameters from ${args.weights}` +
      `${ignored > 0 ? ` (${ignored} training-only tensors left out)` : ''} → ${path.join(args.out!, 'tokenizer.json')}; ` +
      `images ${image.size}×${image.size}, ${image.channels} channels`);
  } finally {
    model.dispose();
  }
}
