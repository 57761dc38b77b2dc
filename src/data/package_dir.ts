// Datasets shipped as npm packages are found through Node's own resolution,
// so they work from any working directory and in a clean clone after `npm ci`.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The folder of an installed npm package, or an error saying how to install
 * it. Packages whose "exports" map hides package.json (nsfwjs) are found
 * along Node's module search path instead.
 */
export function packageDir(name: string, what: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    for (const modules of require.resolve.paths(name) ?? []) {
      if (existsSync(path.join(modules, name, 'package.json'))) return path.join(modules, name);
    }
    throw new Error(`${what}: the npm package ${name} is not installed. Run \`npm install\` in the robustok folder (it is a dependency).`);
  }
}
