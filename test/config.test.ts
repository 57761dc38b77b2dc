// The config layer: schema DSL, typed resolution, overrides, errors, files.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, type Infer, bool, choice, describeConfig, group, list, loadConfigFile, num, resolveConfig, str } from '../src/config/index.js';

const schema = group({
  run: group({
    name: str({ default: 'tok', doc: 'run name' }),
    steps: num({ default: 100, min: 1, integer: true, doc: 'training steps' }),
    ema: bool({ default: true, doc: 'keep EMA weights' }),
  }),
  model: group(
    {
      arch: choice(['cnn', 'vit'], 'cnn', 'encoder/decoder architecture'),
      channelMult: list(num({ default: 1, min: 1, integer: true, doc: 'multiplier' }), { default: [1, 2], minLength: 1, doc: 'channel multipliers' }),
    },
    'the tokenizer network',
  ),
  perturbation: group({
    alpha: num({ default: 0.5, min: 0, max: 1, doc: 'α: probability a token is redrawn' }),
    beta: num({ default: 0.1, min: 0, max: 1, doc: 'β: fraction of images perturbed' }),
    delta: num({ default: 100, min: 1, integer: true, doc: 'δ: nearest codes to draw from' }),
  }),
});
type Config = Infer<typeof schema>;

/** The issues of the ConfigError that `fn` throws. */
function issuesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    assert.ok(e.message.includes(e.issues[0]));
    return e.issues;
  }
  assert.fail('expected a ConfigError');
}

test('the config type is inferred from the schema', () => {
  const config: Config = resolveConfig(schema);
  // Each assignment compiles only if the inferred property type is right.
  const arch: 'cnn' | 'vit' = config.model.arch;
  const mult: readonly number[] = config.model.channelMult;
  const alpha: number = config.perturbation.alpha;
  const ema: boolean = config.run.ema;
  const name: string = config.run.name;
  // @ts-expect-error: 'mlp' is not a choice, so the inferred union rejects it.
  const bad: Config['model']['arch'] = 'mlp';
  assert.deepEqual([arch, mult, alpha, ema, name, bad], ['cnn', [1, 2], 0.5, true, 'tok', 'mlp']);
});

test('defaults fill everything not given, and the result is a fresh copy', () => {
  const config = resolveConfig(schema);
  assert.deepEqual(config, {
    run: { name: 'tok', steps: 100, ema: true },
    model: { arch: 'cnn', channelMult: [1, 2] },
    perturbation: { alpha: 0.5, beta: 0.1, delta: 100 },
  });
  (config.model.channelMult as number[]).push(4);
  assert.deepEqual(resolveConfig(schema).model.channelMult, [1, 2]);
});

test('presets merge in order, key by key, and lists replace', () => {
  const base = { perturbation: { alpha: 1, delta: 10 }, model: { channelMult: [1, 2, 4] } };
  const small = { perturbation: { alpha: 0.25 }, model: { channelMult: [2] } };
  const config = resolveConfig(schema, [base, small]);
  assert.deepEqual(config.perturbation, { alpha: 0.25, beta: 0.1, delta: 10 });
  assert.deepEqual(config.model.channelMult, [2]);
});

test('--set overrides win over presets: nested keys, numbers, booleans, lists, strings', () => {
  const config = resolveConfig(schema, [{ perturbation: { alpha: 1 } }], [
    'perturbation.alpha=0.75',
    'run.ema=false',
    'model.channelMult=[1, 1, 2]',
    'model.arch=vit',
    'run.name=123',
    'run.steps=2e3',
    'perturbation={"beta": 0.2}',
  ]);
  assert.equal(config.perturbation.alpha, 0.75);
  assert.equal(config.perturbation.beta, 0.2);
  assert.equal(config.run.ema, false);
  assert.deepEqual(config.model.channelMult, [1, 1, 2]);
  assert.equal(config.model.arch, 'vit');
  assert.equal(config.run.name, '123', 'a string field keeps the text as written');
  assert.equal(config.run.steps, 2000);
  assert.equal(resolveConfig(schema, [], ['run.name="a b"']).run.name, 'a b', 'quoted JSON strings are unquoted');
});

test('a bad value names its key, the value and the allowed range or choices', () => {
  const cases: [string, string][] = [
    ['perturbation.alpha=1.5', 'perturbation.alpha: 1.5 is outside [0, 1]'],
    ['perturbation.delta=0', 'perturbation.delta: 0 is outside [1, ∞)'],
    ['perturbation.delta=2.5', 'perturbation.delta: 2.5 is not an integer'],
    ['model.arch=mlp', 'model.arch: "mlp" is not one of cnn | vit'],
    ['perturbation.beta=high', 'perturbation.beta: "high" is not a finite number'],
    ['run.ema=1', 'run.ema: 1 is not a boolean'],
    ['model.channelMult=4', 'model.channelMult: 4 is not a list'],
    ['model.channelMult=[]', 'model.channelMult: [] has 0 items, needs at least 1'],
    ['model.channelMult=[1, 0.5]', 'model.channelMult[1]: 0.5 is not an integer'],
    ['perturbation=3', 'perturbation: 3 is not a group of settings (keys: alpha, beta, delta)'],
    ['noequals', 'bad override "noequals": expected key.path=value'],
    ['a..b=1', 'bad override "a..b=1": expected key.path=value'],
  ];
  for (const [override, message] of cases) assert.deepEqual(issuesOf(() => resolveConfig(schema, [], [override])), [message], override);
  assert.deepEqual(issuesOf(() => resolveConfig(schema, [{ run: { name: null } }])), ['run.name: null is not a string']);
  assert.deepEqual(issuesOf(() => resolveConfig(schema, [{ perturbation: { beta: NaN } }])), ['perturbation.beta: NaN is not a finite number']);
});

test('unknown keys are rejected with the nearest known key suggested', () => {
  const cases: [object, string][] = [
    [{ perturbation: { detla: 4 } }, 'perturbation.detla: unknown key (did you mean perturbation.delta?)'],
    [{ perturbaton: {} }, 'perturbaton: unknown key (did you mean perturbation?)'],
    [{ model: { alpha: 0.1 } }, 'model.alpha: unknown key (did you mean perturbation.alpha?)'],
    [{ run: { zzz: 1 } }, 'run.zzz: unknown key (known here: name, steps, ema)'],
    [JSON.parse('{"__proto__": {"x": 1}}'), '__proto__: unknown key (known here: run, model, perturbation)'],
  ];
  for (const [source, message] of cases) assert.deepEqual(issuesOf(() => resolveConfig(schema, [source])), [message]);
});

test('several errors are reported together', () => {
  const issues = issuesOf(() => resolveConfig(schema, [{ perturbation: { alpha: -1 }, runn: {} }], ['model.arch=gan', 'run.steps=0']));
  assert.deepEqual(issues, [
    'runn: unknown key (did you mean run?)',
    'run.steps: 0 is outside [1, ∞)',
    'model.arch: "gan" is not one of cnn | vit',
    'perturbation.alpha: -1 is outside [0, 1]',
  ]);
});

test('a schema whose default breaks its own range is rejected where it is written', () => {
  assert.throws(() => num({ default: 2, max: 1, doc: '' }), /invalid schema: default: 2 is outside \(-∞, 1\]/);
  assert.throws(() => choice(['a', 'b'], 'c' as 'a', ''), /not one of a \| b/);
});

test('describeConfig lists every key with its default, doc and range', () => {
  const lines = describeConfig(schema);
  assert.equal(lines.length, 9);
  assert.ok(lines.includes('perturbation.alpha = 0.5  # α: probability a token is redrawn (allowed: [0, 1])'));
  assert.ok(lines.includes('run.steps = 100  # training steps (allowed: integer in [1, ∞))'));
  assert.ok(lines.includes('model.arch = "cnn"  # encoder/decoder architecture (allowed: cnn | vit)'));
  assert.ok(lines.includes('model.channelMult = [1,2]  # channel multipliers (allowed: list of integer in [1, ∞), length at least 1)'));
  assert.ok(lines.includes('# model: the tokenizer network'));
});

const dir = mkdtempSync(join(tmpdir(), 'robustok-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

test('YAML and JSON presets load and resolve', () => {
  const yaml = file('small.yaml', '# small preset\nperturbation:\n  alpha: 0.25\n  beta: 1e-1\nmodel:\n  arch: vit\n  channelMult: [1, 2, 2]\n');
  const json = file('more.json', '{"perturbation": {"delta": 7}}');
  const config = resolveConfig(schema, [loadConfigFile(yaml), loadConfigFile(json)]);
  assert.deepEqual(config.perturbation, { alpha: 0.25, beta: 0.1, delta: 7 });
  assert.deepEqual(config.model, { arch: 'vit', channelMult: [1, 2, 2] });
  assert.deepEqual(loadConfigFile(file('defaults.yml', '# uses the defaults\n{}\n')), {}, '{} asks for the defaults');
});

test('a config file with no settings is refused, naming the file, not run as the full default training', () => {
  const empty = file('empty.yaml', '');
  assert.throws(() => loadConfigFile(empty), { message: `${empty}: the file holds no settings (it is empty); write the settings to change, or {} to use every default` });
  const blank = file('blank.yml', '\n  \n');
  assert.throws(() => loadConfigFile(blank), new RegExp(`^Error: ${blank}: the file holds no settings \\(it is empty\\)`));
  const comments = file('comments.yaml', '# lr: 1e-3\n');
  assert.throws(() => loadConfigFile(comments), new RegExp(`^Error: ${comments}: the file holds no settings \\(only comments or null\\)`));
  assert.throws(() => loadConfigFile(file('null.json', 'null')), /null\.json: the file holds no settings/);
  const scalar = file('scalar.yaml', 'small\n');
  assert.throws(() => loadConfigFile(scalar), new RegExp(`^Error: ${scalar}: the top level must be a mapping of settings, not "small"`));
});

test('file errors: missing, syntax with line and column, wrong top level, unknown type', () => {
  assert.throws(() => loadConfigFile(join(dir, 'nope.yaml')), { message: `config file not found: ${join(dir, 'nope.yaml')}` });
  const badYaml = file('bad.yaml', 'a: 1\nb: [1, 2\nc: 3\n');
  assert.throws(() => loadConfigFile(badYaml), new RegExp(`^Error: ${badYaml}:3:1: invalid YAML: Flow sequence`));
  const dupYaml = file('dup.yaml', 'a: 1\na: 2\n');
  assert.throws(() => loadConfigFile(dupYaml), new RegExp(`${dupYaml}:2:1: invalid YAML: Map keys must be unique$`));
  const badJson = file('bad.json', '{\n  "a": 1,\n  x\n}');
  assert.throws(() => loadConfigFile(badJson), new RegExp(`^Error: ${badJson}:3:3: invalid JSON`));
  const cutJson = file('cut.json', '{\n  "a": 1,\n');
  assert.throws(() => loadConfigFile(cutJson), new RegExp(`${cutJson}:3:1: invalid JSON`));
  assert.throws(() => loadConfigFile(file('list.yaml', '- 1\n- 2\n')), /top level must be a mapping of settings, not a list/);
  assert.throws(() => loadConfigFile(file('preset.toml', 'a = 1')), /unsupported config file type/);
});

test('a choice of digit strings takes the number YAML reads (channels: 3 means "3"); other numbers are still named', () => {
  const schema = group({ data: group({ channels: choice(['1', '3'], '1', 'image channels') }) });
  assert.equal(resolveConfig(schema, [{ data: { channels: 3 } }], []).data.channels, '3');
  assert.throws(() => resolveConfig(schema, [{ data: { channels: 2 } }], []), /data\.channels: 2 is not one of 1 \| 3/);
});
