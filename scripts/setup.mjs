// One-shot set-up for a fresh machine, run by `npm start` and `npm test`:
// npm dependencies, a C++ toolchain and CMake, libtorch (with the Gloo headers
// its process groups include), and (with --oracle) the PyTorch + SciPy that the
// parity tests compare against and the Chromium that the browser test drives; then it builds
// the native addon. Installs Debian packages only when missing and root.
//
//   node scripts/setup.mjs [--oracle]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const wantOracle = process.argv.includes('--oracle');
const say = (message) => console.error(`[robustok setup] ${message}`);

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

let aptUpdated = false;
function aptInstall(packages, why) {
  if (!isRoot || !has('apt-get')) {
    throw new Error(`${why}\nInstall the Debian packages yourself (sudo apt-get install ${packages.join(' ')}) and run this again.`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    say('apt-get update');
    execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    aptUpdated = true;
  }
  say(`installing ${packages.join(' ')} (${why.split('\n')[0]})`);
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

function npmDependencies() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(path.join(root, 'package.json')).mtimeMs) return;
  say('installing npm dependencies');
  const lock = existsSync(path.join(root, 'package-lock.json'));
  execFileSync('npm', [lock ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

function toolchain() {
  const missing = [['cmake', 'cmake'], ['g++', 'g++'], ['make', 'make']].filter(([cmd]) => !has(cmd)).map(([, pkg]) => pkg);
  if (missing.length > 0) aptInstall(missing, 'the native addon needs a C++ compiler and CMake');
}

function debianTorchConfig() {
  const lib = '/usr/lib';
  if (!existsSync(lib)) return null;
  for (const entry of readdirSync(lib)) {
    const file = path.join(lib, entry, 'cmake', 'Torch', 'TorchConfig.cmake');
    if (existsSync(file)) return file;
  }
  return null;
}

function libtorch() {
  if (process.env.LIBTORCH) {
    const config = path.join(process.env.LIBTORCH, 'share', 'cmake', 'Torch', 'TorchConfig.cmake');
    if (!existsSync(config)) {
      throw new Error(`LIBTORCH=${process.env.LIBTORCH} does not look like a libtorch folder: ${config} is missing.\n` +
        'Point LIBTORCH at the unpacked libtorch (the folder holding lib/, include/ and share/).');
    }
    return;
  }
  if (debianTorchConfig()) return;
  aptInstall(['libtorch-dev'], 'no libtorch found: neither LIBTORCH is set nor Debian\'s libtorch-dev installed\n' +
    'Either install libtorch-dev, or download libtorch (CPU or CUDA) and set LIBTORCH=/path/to/libtorch.');
}

// Debian's libtorch-dev ships c10d's headers, but they include <gloo/...> from
// libgloo-dev, which it does not depend on: without it the addon builds with
// distributed training reported unavailable (native/CMakeLists.txt).
function glooHeaders() {
  if (process.env.LIBTORCH || !debianTorchConfig() || existsSync('/usr/include/gloo/config.h')) return;
  aptInstall(['libgloo-dev'], 'distributed training (robustok launch) needs the Gloo headers that Debian\'s libtorch-dev includes');
}

function oracle() {
  const check = spawnSync('/usr/bin/python3', ['-c', 'import torch, scipy, numpy'], { stdio: 'ignore' });
  if (check.status === 0) return;
  aptInstall(['python3', 'python3-torch', 'python3-scipy', 'python3-numpy'],
    'the parity tests compare against PyTorch: Debian\'s python3-torch (the same libtorch 1.13) is missing');
}

// The browser test of `robustok serve` drives Debian's chromium (through
// playwright-core, which downloads no browser). Only the tests need it, so a
// machine where it cannot be installed still sets up; the test then says why it skips.
function browser() {
  if (existsSync(process.env.ROBUSTOK_CHROMIUM ?? '/usr/bin/chromium')) return;
  try {
    aptInstall(['chromium'], 'the browser test of robustok serve drives Debian\'s chromium');
  } catch (error) {
    say(`chromium not installed, so the browser test will be skipped: ${error instanceof Error ? error.message.split('\n')[0] : error}`);
  }
}

function datasets() {
  if (existsSync('/usr/share/datasets/fashion-mnist') || process.env.ROBUSTOK_FASHION_MNIST) return;
  aptInstall(['dataset-fashion-mnist'], 'the fashion-mnist dataset (and its tests) read Debian\'s dataset-fashion-mnist');
}

try {
  npmDependencies();
  datasets();
  toolchain();
  libtorch();
  glooHeaders();
  if (wantOracle) {
    oracle();
    browser();
  }
  const { buildNative } = await import('./build-native.mjs');
  buildNative();
} catch (error) {
  console.error(`[robustok setup] ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
