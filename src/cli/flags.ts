// A command's flags as one table: each flag's value name, help, default,
// parser and whether it is required or repeatable, from which come both the
// parsed values (node:util parseArgs, strict) and the usage lines, so the
// help cannot drift from what is parsed (as a training command's keys come
// from its config schema). Every command reports a bad flag the same way:
// the message names the flag, and an unknown one is followed by the usage.
import { parseArgs } from 'node:util';

export interface Flag<T = unknown> {
  /** The value's name in the usage line ('N', 'DIR', 'train|test'); a flag without one is a switch (true when given). */
  value?: string;
  /** The usage line's text; a '\n' continues it on the next line, aligned. */
  help: string;
  /** The value when the flag is not given, shown as "(default …)" after the help. */
  default?: T;
  /** The value from its text, throwing an Error that names `flag` (e.g. `positiveInteger`); default: the text itself. */
  parse?: (text: string, flag: string) => T;
  /** Missing, the command stops with "--flag VALUE is required (help)" and its usage. */
  required?: boolean;
  /** May be given more than once; the values come in order (an empty list when absent). */
  multiple?: boolean;
}

export type FlagTable = Record<string, Flag>;

/** A table as written, its literal types kept (`required: true`, the parsers' results), which `FlagValues` reads. */
export const flagTable = <const T extends FlagTable>(table: T): T => table;

type ValueOf<F> = F extends { parse: (text: string, flag: string) => infer T } ? T : F extends { value: string } ? string : boolean;

/** The parsed values by flag name: a switch as a boolean, a repeatable flag as a list, one without default or `required` possibly undefined. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]: T[K] extends { multiple: true } ? ValueOf<T[K]>[]
    : T[K] extends { value: string } ? (T[K] extends { default: unknown } | { required: true } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined)
    : boolean;
};

/** `text` as a number that passes `check`, or an error naming the flag, the range and the text. */
export function parseNumber(flag: string, text: string, check: (v: number) => boolean, range: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !check(v)) throw new Error(`${flag} must be ${range}, got '${text}'`);
  return v;
}

// Parsers for `Flag.parse`, each naming the flag in its error.

export const positiveInteger = (text: string, flag: string): number => {
  const v = Number(text);
  if (text.trim() === '' || !Number.isInteger(v) || v < 1) throw new Error(`${flag} takes a positive integer`);
  return v;
};

/** A number in [0, 1] (a probability such as α). */
export const fraction = (text: string, flag: string): number => parseNumber(flag, text, (v) => v >= 0 && v <= 1, 'a number in [0, 1]');

/** A non-negative integer (a seed, a rank). */
export const seed = (text: string, flag: string): number => parseNumber(flag, text, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');

export const positiveNumber = (text: string, flag: string): number => parseNumber(flag, text, (v) => v > 0, 'a positive number');

/** One of `choices`. */
export const oneOf = <C extends string>(choices: readonly C[]) => (text: string, flag: string): C => {
  if (!choices.includes(text as C)) throw new Error(`${flag} must be one of ${choices.join(', ')}, got '${text}'`);
  return text as C;
};

/** Comma-separated values, each read by `item`; a bad one is named with what the list takes (`plural`: 'positive integers'). */
export const listOf = <T>(item: (text: string, flag: string) => T, plural: string) => (text: string, flag: string): T[] =>
  text.split(',').map((part) => {
    try {
      return item(part.trim(), flag);
    } catch {
      throw new Error(`${flag} takes ${plural} separated by commas, got '${part}'`);
    }
  });

/** Seeds, comma-separated (0,1,2): each a non-negative integer, none twice (a repeated seed would count one run twice). */
export const seedList = (text: string, flag: string): number[] => {
  const seeds = listOf(seed, 'non-negative integers')(text, flag);
  if (new Set(seeds).size !== seeds.length) throw new Error(`${flag} lists a seed twice: '${text}'`);
  return seeds;
};

/** Whether `argv` asks for the usage: --help or -h anywhere, so it wins over any other mistake on the line. */
export const wantsHelp = (argv: readonly string[]): boolean => argv.includes('--help') || argv.includes('-h');

const shown = (value: unknown): string => (Array.isArray(value) ? value.join(',') : String(value));

/** The usage lines of `table`: `  --flag VALUE   help (default …)`, help aligned, a long flag's help on the next line. */
export function flagLines(table: FlagTable): string {
  const heads = Object.entries(table).map(([name, f]) => `--${name}${f.value ? ` ${f.value}` : ''}`);
  const column = Math.min(22, Math.max(...heads.map((h) => h.length))) + 2;
  return Object.values(table).flatMap((f, i) => {
    const help = `${f.help}${f.value && f.default !== undefined ? ` (default ${shown(f.default)})` : ''}`.split('\n');
    const head = heads[i]!;
    const lines = head.length < column ? [`${head.padEnd(column)}${help[0]}`, ...help.slice(1).map((l) => `${' '.repeat(column)}${l}`)]
      : [head, ...help.map((l) => `${' '.repeat(column)}${l}`)];
    return lines.map((l) => `  ${l}`);
  }).join('\n');
}

/** parseArgs' error as ours: the flag named as the user wrote it, and the usage after an unknown one. */
function flagError(error: unknown, usage: string): Error {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const named = /'([^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new Error(`unknown option ${named}\n\n${usage}`);
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return new Error(`unexpected argument ${named} (every value follows its flag)\n\n${usage}`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (message.includes('does not take an argument')) return new Error(`${named} is a switch and takes no value`);
    if (message.includes('ambiguous')) return new Error(`${named} needs a value (one that starts with '-' is written ${named}=VALUE)`);
    return new Error(`${named} needs a value`);
  }
  return error instanceof Error ? error : new Error(message);
}

/**
 * `argv` read against `table`. parseArgs refuses a value that starts with
 * '-' (it is taken for a forgotten value followed by a flag); a negative
 * number never is a flag, so one after a flag that takes a value is passed
 * as its value, and the flag's parser then judges it (`--temperature -1`
 * says that it must be ≥ 0).
 */
export function readFlags<T extends FlagTable>(argv: readonly string[], table: T, usage: string): FlagValues<T> {
  const takesValue = (arg: string) => arg.startsWith('--') && table[arg.slice(2)]?.value !== undefined;
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [arg, next] = [argv[i]!, argv[i + 1]];
    if (takesValue(arg) && next !== undefined && /^-\.?\d/.test(next)) args.push(`${arg}=${argv[++i]}`);
    else args.push(arg);
  }
  const options = Object.fromEntries(Object.entries(table).map(([name, f]) => [name, { type: f.value ? 'string' as const : 'boolean' as const, multiple: f.multiple === true }]));
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw flagError(error, usage);
  }
  return Object.fromEntries(Object.entries(table).map(([name, f]) => {
    const flag = `--${name}`;
    const given = values[name];
    if (!f.value) return [name, given === true];
    if (given === undefined) {
      if (f.required) throw new Error(`${flag} ${f.value} is required (${f.help.split('\n')[0]})\n\n${usage}`);
      return [name, f.multiple ? [] : f.default];
    }
    const read = (text: string) => (f.parse ? f.parse(text, flag) : text);
    return [name, Array.isArray(given) ? given.map((v) => read(String(v))) : read(String(given))];
  })) as FlagValues<T>;
}
