// Command-line flags, read one by one: each handler takes the flag and a
// reader for its value, so every command reports a missing value or an
// unknown flag the same way.
export interface FlagValue {
  /** The next argument, which the flag needs. */
  value(): string;
  /** The next argument as a positive integer. */
  integer(): number;
  /** The next argument as a number in [0, 1] (a probability such as α). */
  fraction(): number;
  /** The next argument as a non-negative integer (a seed). */
  seed(): number;
  /** The next argument as a positive number. */
  number(): number;
}

/** `text` as a number that passes `check`, or an error naming the flag, the range and the text. */
export function parseNumber(flag: string, text: string, check: (v: number) => boolean, range: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !check(v)) throw new Error(`${flag} must be ${range}, got '${text}'`);
  return v;
}

/** `text` as a number in [0, 1]. */
export const parseFraction = (flag: string, text: string): number => parseNumber(flag, text, (v) => v >= 0 && v <= 1, 'a number in [0, 1]');

/**
 * Calls `handle(flag, reader)` for each flag in `argv`; `handle` returns
 * false for a flag it does not know, which then throws with `usage`.
 */
export function readFlags(argv: string[], usage: string, handle: (flag: string, read: FlagValue) => boolean): void {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const read: FlagValue = {
      value: () => {
        const v = argv[++i];
        if (v === undefined) throw new Error(`${flag} needs a value`);
        return v;
      },
      integer: () => {
        const v = Number(read.value());
        if (!Number.isInteger(v) || v < 1) throw new Error(`${flag} takes a positive integer`);
        return v;
      },
      fraction: () => parseFraction(flag, read.value()),
      seed: () => parseNumber(flag, read.value(), (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer'),
      number: () => parseNumber(flag, read.value(), (v) => v > 0, 'a positive number'),
    };
    if (!handle(flag, read)) throw new Error(`unknown option ${flag}\n\n${usage}`);
  }
}
