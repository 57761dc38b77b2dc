#!/usr/bin/env node
// The `robustok` command. Subcommands arrive with the layers they drive
// (train-tokenizer, eval, ...); today it reports on the engine.
import { cuda, getNumThreads, torchVersion } from '../torch/index.js';

const usage = `usage: robustok <command>

commands:
  info     libtorch version, threads and devices
  data     datasets: list, info NAME [--grid FILE]
  help     this text

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

const [command = 'help', ...rest] = process.argv.slice(2);
switch (command) {
  case 'info':
    info();
    break;
  case 'data':
    await import('./data.js').then((m) => m.dataCommand(rest)).catch((e: Error) => { console.error(`robustok data: ${e.message}`); process.exit(1); });
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
