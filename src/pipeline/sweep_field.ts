// A config field the DSL of src/config does not have: a list of named
// variants, each a list of `key.path=value` overrides (the same text as
// `--set`) of a layer's preset. A reproduction's tokenizer sweep is one
// (docs/method.md, last section: several tokenizers per seed, so that pFID
// and rFID vary and can be ranked). The overrides themselves are checked
// against the layer's schema later, when the preset's stage configs are
// resolved; this field checks the shape, the names and their uniqueness.
import type { Field } from '../config/index.js';

export interface Variant {
  /** Folder-safe: it names the stage folders (`<name>-s<seed>`). */
  readonly name: string;
  readonly set: readonly string[];
  /**
   * The seeds of the preset's `seeds` this entry trains on (absent: all of
   * them). A design can run a cheap comparison on many seeds and a
   * wider sweep on a few (claims 1 and 2 need different shapes).
   */
  readonly seeds?: readonly number[];
}

/** What a variant name may be: it becomes part of folder names. */
export const VARIANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Names with another meaning where variants are listed (posttrain.tokenizers). */
export const RESERVED_NAMES = ['best-pfid', 'baseline'] as const;

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function variantProblems(v: unknown, at: string): string[] {
  if (!isPlain(v)) return [`${at}: ${JSON.stringify(v)} is not a mapping with name and set`];
  const problems = Object.keys(v).filter((k) => !['name', 'set', 'seeds'].includes(k)).map((k) => `${at}.${k}: unknown key (known here: name, set, seeds)`);
  if (typeof v.name !== 'string' || !VARIANT_NAME.test(v.name)) {
    problems.push(`${at}.name: ${JSON.stringify(v.name)} is not a name of letters, digits, '.', '_' or '-' (it names folders)`);
  } else if ((RESERVED_NAMES as readonly string[]).includes(v.name)) {
    problems.push(`${at}.name: '${v.name}' is reserved (it means something else in posttrain.tokenizers)`);
  }
  const set = v.set ?? [];
  if (!Array.isArray(set)) problems.push(`${at}.set: ${JSON.stringify(set)} is not a list of key.path=value overrides`);
  else set.forEach((s, i) => { if (typeof s !== 'string' || !s.includes('=')) problems.push(`${at}.set[${i}]: ${JSON.stringify(s)} is not key.path=value`); });
  if (v.seeds !== undefined && !(Array.isArray(v.seeds) && v.seeds.length > 0 && v.seeds.every((x) => Number.isInteger(x) && x >= 0))) {
    problems.push(`${at}.seeds: ${JSON.stringify(v.seeds)} is not a non-empty list of seeds (non-negative integers)`);
  }
  return problems;
}

/** Whether variant `v` trains on `seed` (absent `seeds`: every seed). */
export const runsOn = (v: Variant, seed: number): boolean => v.seeds === undefined || v.seeds.includes(seed);

/** A list of `{name, set, seeds?}` variants with unique names. */
export function variantList(spec: { default: readonly Variant[]; doc: string; minLength?: number }): Field<readonly Variant[]> {
  const minLength = spec.minLength ?? 1;
  const field: Field<readonly Variant[]> = {
    kind: 'field',
    default: spec.default,
    doc: spec.doc,
    allowed: `list of {name, set: [key.path=value, …], seeds?: [s, …]}, at least ${minLength}, names unique`,
    check(value, path) {
      if (!Array.isArray(value)) return [`${path}: ${JSON.stringify(value)} is not a list of variants`];
      const problems = value.flatMap((v, i) => variantProblems(v, `${path}[${i}]`));
      if (value.length < minLength) problems.push(`${path}: has ${value.length} variants, needs at least ${minLength}`);
      const names = value.map((v) => (isPlain(v) ? v.name : undefined));
      const repeated = [...new Set(names.filter((n, i) => typeof n === 'string' && names.indexOf(n) !== i))];
      if (repeated.length > 0) problems.push(`${path}: names must be unique, repeated: ${repeated.join(', ')}`);
      return problems;
    },
    fromText(text) {
      try {
        return JSON.parse(text);
      } catch {
        return text;  // reported by check as not a list
      }
    },
    // `set` may be left out in a preset: no overrides.
    normalize: (value) => (Array.isArray(value) ? value.map((v) => (isPlain(v) && v.set === undefined ? { ...v, set: [] } : v)) : value),
  };
  const bad = field.check(spec.default, 'default');
  if (bad.length > 0) throw new Error(`invalid schema: ${bad.join('; ')}`);
  return field;
}
