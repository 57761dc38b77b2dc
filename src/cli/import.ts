// `robustok import --kind KIND --weights FILE --out DIR`: a published
// tokenizer's released file (tokenizer/published.ts) written as a robustok
// tokenizer folder, which every command then takes as --tokenizer DIR (and
// post-train can fine-tune). `--tokenizer KIND:FILE` reads the file directly
// instead; importing once saves re-reading a large pickle each time.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PUBLISHED, loadPublished, publishedKinds, saveTokenizer } from '../tokenizer/index.js';
import { flagLines, flagTable, readFlags, wantsHelp } from './flags.js';

const flags = flagTable({
  kind: { value: 'KIND', help: 'the published tokenizer (below)', required: true },
  weights: { value: 'FILE', help: 'the file its authors released', required: true },
  out: { value: 'DIR', help: 'the tokenizer folder to write', required: true },
});

export const importUsage = `usage: robustok import --kind KIND --weights FILE --out DIR

Reads a published tokenizer from the file its authors released and writes
DIR/tokenizer.json (architecture, and the images it was trained on) and
DIR/tokenizer.safetensors (its weights, upstream names).

${flagLines(flags)}
Kinds and files:
${publishedKinds.map((k) => `  ${k.padEnd(18)}${PUBLISHED[k].files}`).join('\n')}
Any command also takes --tokenizer KIND:FILE directly.`;

export async function importCommand(argv: string[]): Promise<void> {
  if (wantsHelp(argv)) {
    console.log(importUsage);
    return;
  }
  const args = readFlags(argv, flags, importUsage);
  const { model, image, spec, ignored } = loadPublished(args.kind, args.weights);
  try {
    mkdirSync(args.out, { recursive: true });
    saveTokenizer(args.out, model, image);
    const params = model.namedParameters().reduce((n, [, t]) => n + t.numel, 0);
    console.log(`${spec.title}: ${(params / 1e6).toFixed(1)}M parameters from ${args.weights}` +
      `${ignored > 0 ? ` (${ignored} training-only tensors left out)` : ''} → ${path.join(args.out, 'tokenizer.json')}; ` +
      `images ${image.size}×${image.size}, ${image.channels} channels`);
  } finally {
    model.dispose();
  }
}
