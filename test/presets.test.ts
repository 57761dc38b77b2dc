// Every preset in configs/ resolves against its layer's schema, so a key
// renamed in a schema cannot leave a preset behind that fails only when a
// user runs it.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Group, loadConfigFile, resolveConfig } from '../src/config/index.js';
import { generatorSchema } from '../src/generator/index.js';
import { posttrainSchema } from '../src/posttrain/index.js';
import { tokenizerSchema } from '../src/tokenizer/index.js';

const configs = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'configs');
const schemas: Record<string, Group> = { tokenizer: tokenizerSchema, generator: generatorSchema, posttrain: posttrainSchema };

test('every preset of configs/<layer>/ resolves against that layer\'s schema, and each layer has tiny, small, emoji64 and reference', () => {
  for (const [layer, schema] of Object.entries(schemas)) {
    const files = readdirSync(path.join(configs, layer)).filter((f) => f.endsWith('.yaml'));
    for (const name of ['tiny', 'small', 'emoji64', 'reference']) assert.ok(files.includes(`${name}.yaml`), `configs/${layer}/${name}.yaml is missing`);
    for (const file of files) {
      assert.doesNotThrow(() => resolveConfig(schema, [loadConfigFile(path.join(configs, layer, file))], []), `configs/${layer}/${file}`);
    }
  }
});

test('post-training reuses the tokenizer\'s losses with the GAN on from step 0 (docs/method.md §6)', () => {
  const defaults = resolveConfig(posttrainSchema, [], []);
  assert.equal(defaults.loss.gan.enabled, true);
  assert.equal(defaults.loss.gan.start, 0);
  assert.equal(resolveConfig(tokenizerSchema, [], []).loss.gan.enabled, false, 'the tokenizer\'s own default is untouched');
  assert.equal(defaults.sigma, 0.7);
});
