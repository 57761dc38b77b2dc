// Builds native/ with CMake against local headers only (works offline).
// Usage: node scripts/build-native.mjs [--force]
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(root, 'native', 'build');
const output = path.join(buildDir, 'robustok.node');

export function nodeIncludeDir() {
  const candidates = [
    process.env.npm_config_nodedir && path.join(process.env.npm_config_nodedir, 'include', 'node'),
    path.resolve(process.execPath, '..', '..', 'include', 'node'),
    '/usr/include/node',
  ].filter(Boolean);
  const found = candidates.find((dir) => existsSync(path.join(dir, 'node_api.h')));
  if (!found) {
    throw new Error(`Node's C headers (node_api.h) were not found in ${candidates.join(', ')}; ` +
      'install the Node.js development headers or set npm_config_nodedir.');
  }
  return found;
}

function newestSource() {
  const dir = path.join(root, 'native', 'src');
  const files = readdirSync(dir).map((f) => path.join(dir, f));
  files.push(path.join(root, 'native', 'CMakeLists.txt'));
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

export function nativeIsFresh() {
  return existsSync(output) && statSync(output).mtimeMs >= newestSource();
}

export function buildNative({ force = false } = {}) {
  if (!force && nativeIsFresh()) return output;
  const require = createRequire(import.meta.url);
  const addonApi = require('node-addon-api').include_dir.replace(/^"|"$/g, '');
  const args = ['-S', path.join(root, 'native'), '-B', buildDir, '-DCMAKE_BUILD_TYPE=Release',
    `-DNODE_INCLUDE_DIR=${nodeIncludeDir()}`, `-DNODE_ADDON_API_DIR=${path.resolve(root, addonApi)}`];
  if (process.env.LIBTORCH) args.push(`-DCMAKE_PREFIX_PATH=${path.resolve(process.env.LIBTORCH)}`);
  console.error('[robustok] configuring the native addon (cmake)');
  execFileSync('cmake', args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const jobs = String(Math.max(1, Math.min(os.availableParallelism(), Math.floor(os.totalmem() / 3e9))));
  console.error(`[robustok] compiling the native addon with ${jobs} jobs (first build takes a few minutes)`);
  execFileSync('cmake', ['--build', buildDir, '-j', jobs], { stdio: ['ignore', 'inherit', 'inherit'] });
  return output;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildNative({ force: process.argv.includes('--force') });
}
