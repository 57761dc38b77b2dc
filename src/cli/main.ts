#!/usr/bin/env node
// The `robustok` command. Subcommands arrive with the layers they drive
// (train-tokenizer, eval, ...); today it reports on the engine.
import { cuda, getNumThreads, torchVersion } from '../torch/index.js';

const usage = `usage: robustok <command>

commands:
  info             libtorch version, threads and devices
  data             datasets: list, info NAME [--grid FILE]
  train-tokenizer  train a tokenizer with latent perturbation (--config FILE --out DIR; --help for keys)
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
  case 'help':
  case '--help':
  case '-h':
    console.log(usage);
    break;
  default:
    console.error(`robustok: unknown command '${command}'${rest.length ? ` (with ${rest.join(' ')})` : ''}\n\n${usage}`);
    process.exit(2);
}
