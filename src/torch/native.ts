// Loads the compiled libtorch addon (native/). Everything in src/torch talks
// to it; nothing above src/torch does.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque native tensor handle (a Node-API External). */
export type Handle = { readonly __handle: unique symbol };

// The addon's functions are generic over handles, numbers, arrays and strings;
// their argument checks live in the C++ `Args` reader and in src/torch.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NativeFn = (...args: any[]) => any;

function packageRoot(): string {
  // dist/src/torch/native.js or src/torch/native.ts → the package root
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('robustok: cannot find the package root');
    dir = parent;
  }
  return dir;
}

function load(): Record<string, NativeFn> {
  const file = process.env.ROBUSTOK_NATIVE ?? path.join(packageRoot(), 'native', 'build', 'robustok.node');
  if (!existsSync(file)) {
    throw new Error(`robustok: the native addon is not built (${file} is missing). ` +
      'Run `npm run setup` (installs libtorch when needed, then builds the addon).');
  }
  return createRequire(import.meta.url)(file) as Record<string, NativeFn>;
}

export const native = load();
