#!/usr/bin/env node
// The `robustok` command: one table of subcommands, each loaded on demand so
// that `robustok info` does not pay for the tokenizer or the feature networks.
type Command = (argv: string[]) => Promise<unknown>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  info: { summary: 'libtorch version, threads and devices; --bench: this machine\'s reference speed figures', load: () => import('./info.js').then((m) => m.infoCommand) },
  data: { summary: 'datasets: list, info NAME [--grid FILE]', load: () => import('./data.js').then((m) => m.dataCommand) },
  launch: {
    summary: 'run a training command as N data-parallel processes (--nproc N [--nnodes …] <command> …)',
    load: () => import('./launch.js').then((m) => m.launchCommand),
  },
  'train-tokenizer': {
    summary: 'train a tokenizer with latent perturbation (--config FILE --out DIR; --help for keys)',
    load: () => import('./train_tokenizer.js').then((m) => m.trainTokenizerCommand),
  },
  'train-generator': {
    summary: 'train an autoregressive generator on a tokenizer\'s tokens (--tokenizer DIR --config FILE --out DIR)',
    load: () => import('./train_generator.js').then((m) => m.trainGeneratorCommand),
  },
  'post-train': {
    summary: 'fine-tune a tokenizer\'s decoder on a generator\'s σ-tokens (--tokenizer DIR --generator DIR --config FILE --out DIR)',
    load: () => import('./post_train.js').then((m) => m.postTrainCommand),
  },
  'post-train-compare': {
    summary: 'post-training at σ against its σ = 1 control over seeds, scored on the same sampled grids (claim 3)',
    load: () => import('./post_train_compare.js').then((m) => m.postTrainCompareCommand),
  },
  sample: {
    summary: 'sample images (and token ids) from a trained generator (--generator DIR --out FILE.png|DIR)',
    load: () => import('./sample.js').then((m) => m.sampleCommand),
  },
  'eval-generator': {
    summary: 'gFID, Inception Score, precision/recall of a generator\'s samples (--generator DIR)',
    load: () => import('./eval_generator.js').then((m) => m.evalGeneratorCommand),
  },
  'train-classifier': {
    summary: 'train the dataset classifier behind --features classifier:NAME (--data NAME)',
    load: () => import('./train_classifier.js').then((m) => m.trainClassifierCommand),
  },
  eval: {
    summary: 'rFID, pFID (+ curve over α), PSNR, SSIM, codebook usage of a tokenizer (--tokenizer DIR --data NAME)',
    load: () => import('./eval.js').then((m) => m.evalCommand),
  },
  reproduce: {
    summary: 'the paper\'s three claims over seeds, one resumable experiment (--preset quick|small|emoji64 --out DIR)',
    load: () => import('./reproduce.js').then((m) => m.reproduceCommand),
  },
  import: {
    summary: 'a published tokenizer\'s released file → a tokenizer folder (--kind KIND --weights FILE --out DIR)',
    load: () => import('./import.js').then((m) => m.importCommand),
  },
  serve: {
    summary: 'a local web app: runs and their curves, a tokenizer lab, a generator lab (--runs DIR --port 7860)',
    load: () => import('./serve.js').then((m) => m.serveCommand),
  },
  reconstruct: {
    summary: 'encode and decode images with a trained tokenizer, print PSNR (--tokenizer DIR --input IMG|FOLDER --out OUT)',
    load: () => import('./tokenize.js').then((m) => (argv) => m.tokenizeCommand('reconstruct', argv)),
  },
  encode: {
    summary: 'images → token ids as JSON or .npy (--tokenizer DIR --input IMG|FOLDER --out FILE.json|FILE.npy)',
    load: () => import('./tokenize.js').then((m) => (argv) => m.tokenizeCommand('encode', argv)),
  },
  decode: {
    summary: 'token ids → PNGs (--tokenizer DIR --input FILE.json|FILE.npy --out FOLDER)',
    load: () => import('./tokenize.js').then((m) => (argv) => m.tokenizeCommand('decode', argv)),
  },
};

const usage = `usage: robustok <command>

commands:
${Object.entries(commands).map(([name, c]) => `  ${name.padEnd(17)}${c.summary}`).join('\n')}
  help             this text

Benchmarks: npm run bench:engine | bench:tokenizer | bench:metrics | bench:data`;

const [name = 'help', ...rest] = process.argv.slice(2);
const command = commands[name];
if (command) {
  // A subcommand's errors print as one message (no stack) and exit 1.
  try {
    await (await command.load())(rest);
  } catch (error) {
    console.error(`robustok ${name}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
} else if (['help', '--help', '-h'].includes(name)) {
  console.log(usage);
} else {
  console.error(`robustok: unknown command '${name}'${rest.length ? ` (with ${rest.join(' ')})` : ''}\n\n${usage}`);
  process.exit(2);
}
