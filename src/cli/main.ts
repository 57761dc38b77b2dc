#!/usr/bin/env node
// The `robustok` command. Subcommands arrive with the layers they drive
// (train-tokenizer, eval, ...); today it reports on the engine.
import { cuda, getNumThreads, torchVersion } from '../torch/index.js';

const usage = `usage: robustok <command>

commands:
  info             libtorch version, threads and devices
  data             datasets: list, info NAME [--grid FILE]
  train-tokenizer  train a tokenizer with latent perturbation (--config FILE --out DIR; --help for keys)
  train-classifier train the dataset classifier behind --features classifier:NAME (--data NAME)
  eval             rFID, pFID (+ curve over α), PSNR, SSIM, codebook usage of a tokenizer (--tokenizer DIR --data NAME)
  reconstruct      encode and decode images with a trained tokenizer, print PSNR (--tokenizer DIR --input IMG|FOLDER --out OUT)
  encode           images → token ids as JSON or .npy (--tokenizer DIR --input IMG|FOLDER --out FILE.json|FILE.npy)
  decode           token ids → PNGs (--tokenizer DIR --input FILE.json|FILE.npy --out FOLDER)
  help             this text

The engine benchmark: npm run bench:engine`;

function info(): void {
  console.log(JSON.stringify({
    libtorch: torchVersion,
    threads: getNumThreads(),
    cuda: cuda.isAvailable(),
    cudaDevices: cuda.deviceCount(),
    node: process.version,
  }, null, 2));
}

/** Runs a subcommand; its errors print as one message (no stack) and exit 1. */
async function run(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    console.error(`robustok ${name}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

const [command = 'help', ...rest] = process.argv.slice(2);
switch (command) {
  case 'info':
    info();
    break;
  case 'data':
    await run('data', () => import('./data.js').then((m) => m.dataCommand(rest)));
    break;
  case 'train-tokenizer':
    await run('train-tokenizer', () => import('./train_tokenizer.js').then((m) => m.trainTokenizerCommand(rest)));
    break;
  case 'train-classifier':
    await run('train-classifier', () => import('./train_classifier.js').then((m) => m.trainClassifierCommand(rest)));
    break;
  case 'eval':
    await run('eval', () => import('./eval.js').then((m) => m.evalCommand(rest)));
    break;
  case 'reconstruct':
  case 'encode':
  case 'decode':
    await run(command, () => import('./tokenize.js').then((m) => m.tokenizeCommand(command, rest)));
    break;
  case 'help':
  case '--help':
  case '-h':
    console.log(usage);
    break;
  default:
    console.error(`robustok: unknown command '${command}'${rest.length ? ` (with ${rest.join(' ')})` : ''}\n\n${usage}`);
    process.exit(2);
}
