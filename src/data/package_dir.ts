// Datasets shipped as npm packages are found through Node's own resolution,
// so they work from any working directory and in a clean clone after `npm ci`.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** The folder of an installed npm package, or an error saying how to install it. */
export function packageDir(name: string, dataset: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new Error(`${dataset}: the npm package ${name} is not installed. Run \`npm install\` in the robustok folder (it is a dependency).`);
  }
}
