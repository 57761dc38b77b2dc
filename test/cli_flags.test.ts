// A command's flag table (src/cli/flags.ts): the values parseArgs reads
// from it, each bad flag named with what it takes, and the usage lines made
// from the same table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flagLines, flagTable, fraction, listOf, oneOf, positiveInteger, readFlags, seedList } from '../src/cli/flags.js';

const table = flagTable({
  input: { value: 'DIR', help: 'what to read', required: true },
  split: { value: 'train|test', help: 'which split', default: 'test', parse: oneOf(['train', 'test'] as const) },
  n: { value: 'N', help: 'how many', parse: positiveInteger },
  alpha: { value: 'A', help: 'α', default: 0.5, parse: fraction },
  shift: { value: 'S', help: 'a signed number', parse: Number },
  seeds: { value: 'LIST', help: 'seeds', default: [0, 1], parse: seedList },
  set: { value: 'key=value', help: 'an override', multiple: true },
  json: { help: 'print JSON\nof one line' },
});
const usage = 'usage: test';
const read = (...argv: string[]) => readFlags(argv, table, usage);

test('values come typed, with their defaults; a switch is false unless given; a repeatable flag keeps its values in order', () => {
  assert.deepEqual(read('--input', 'x'), { input: 'x', split: 'test', n: undefined, alpha: 0.5, shift: undefined, seeds: [0, 1], set: [], json: false });
  assert.deepEqual(read('--input=x', '--split', 'train', '--n', '3', '--set', 'a=1', '--json', '--set', 'b=2', '--seeds', '4,5'),
    { input: 'x', split: 'train', n: 3, alpha: 0.5, shift: undefined, seeds: [4, 5], set: ['a=1', 'b=2'], json: true });
  assert.equal(read('--input', 'x', '--shift', '-2').shift, -2, 'a negative number is a value, not a flag');
});

test('a bad flag is named with what it takes; an unknown one or a missing required one comes with the usage', () => {
  assert.throws(() => read(), { message: `--input DIR is required (what to read)\n\n${usage}` });
  assert.throws(() => read('--input', 'x', '--fast'), { message: `unknown option --fast\n\n${usage}` });
  assert.throws(() => read('--input', 'x', 'stray'), { message: /^unexpected argument stray/ });
  assert.throws(() => read('--input'), { message: '--input needs a value' });
  assert.throws(() => read('--input', 'x', '--json=1'), { message: '--json is a switch and takes no value' });
  assert.throws(() => read('--input', 'x', '--n', '0'), { message: '--n takes a positive integer' });
  assert.throws(() => read('--input', 'x', '--alpha', '-0.5'), { message: "--alpha must be a number in [0, 1], got '-0.5'" });
  assert.throws(() => read('--input', 'x', '--split', 'val'), { message: "--split must be one of train, test, got 'val'" });
  assert.throws(() => read('--input', 'x', '--seeds', '0,x'), { message: "--seeds takes non-negative integers separated by commas, got 'x'" });
  assert.throws(() => read('--input', 'x', '--seeds', '1,1'), { message: "--seeds lists a seed twice: '1,1'" });
  assert.throws(() => listOf(positiveInteger, 'positive integers')('2,0', '--d'), { message: "--d takes positive integers separated by commas, got '0'" });
});

test('the usage lines come from the same table: value names, help aligned, defaults shown, continuation lines indented', () => {
  assert.equal(flagLines(flagTable({
    n: { value: 'N', help: 'how many', default: 4 },
    'a-long-flag-name': { value: 'VALUE', help: 'on the next line' },
    json: { help: 'print JSON\nof one line' },
  })), [
    '  --n N                   how many (default 4)',
    '  --a-long-flag-name VALUE',
    '                          on the next line',
    '  --json                  print JSON',
    '                          of one line',
  ].join('\n'));
});
