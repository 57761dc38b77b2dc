// The config schema DSL: every setting is declared once, with its type,
// default, allowed values and a one-line doc. The resolved config's type is
// inferred from the schema (`Infer<typeof schema>`), so there is no
// hand-written interface to drift from the defaults or the validation.

/** A setting: its default, its doc line and how to validate it. */
export interface Field<T> {
  readonly kind: 'field';
  readonly default: T;
  /** One line for `--help`; may cite the paper's symbol ("α: …"). */
  readonly doc: string;
  /** The allowed values in words, e.g. "[0, 1]", "integer in [1, ∞)", "cnn | vit". */
  readonly allowed: string;
  /** Messages (each starting with `path`) for what is wrong with `value`; empty when valid. */
  check(value: unknown, path: string): string[];
  /**
   * The value an override's text stands for. JSON where it parses (numbers,
   * booleans, arrays), else the text; string fields always take the text, so
   * `--set run.name=123` means the string "123".
   */
  fromText(text: string): unknown;
  /** The value as the config holds it (a choice of digit strings takes YAML's number 3 as '3'). */
  normalize(value: unknown): unknown;
}

/** A named set of settings, nested as `group.key` in paths. */
export interface Group<S extends Shape = Shape> {
  readonly kind: 'group';
  readonly fields: S;
  readonly doc: string;
}

export type Node = Field<unknown> | Group;
export type Shape = { readonly [key: string]: Node };

/** The resolved config type of a schema node. */
export type Infer<N> =
  N extends Field<infer T> ? T : N extends Group<infer S> ? { readonly [K in keyof S]: Infer<S[K]> } : never;

/** A value as it appears in messages: JSON, shortened. */
export function show(value: unknown): string {
  // String() for numbers so NaN and Infinity (from YAML's .nan, .inf) read as themselves.
  const text = value === undefined || typeof value === 'number' ? String(value) : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** JSON where the text parses as JSON, else the text itself. */
export function parseText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The text itself, unless it is a quoted JSON string. */
function stringText(text: string): unknown {
  return text.startsWith('"') ? parseText(text) : text;
}

interface LeafSpec<T> {
  default: T;
  doc: string;
  allowed: string;
  /**
   * What is wrong with `value` (which may be anything): a phrase to follow the
   * value ("is not a number"), whole messages (a list's items), or undefined.
   */
  problem(value: unknown, path: string): string[] | string | undefined;
  fromText?: (text: string) => unknown;
  normalize?: (value: unknown) => unknown;
}

/** Builds a field and checks its own default, so a bad schema fails where it is written. */
function leaf<T>(spec: LeafSpec<T>): Field<T> {
  const field: Field<T> = {
    kind: 'field',
    default: spec.default,
    doc: spec.doc,
    allowed: spec.allowed,
    check(value, path) {
      const p = spec.problem(value, path);
      if (p === undefined) return [];
      return Array.isArray(p) ? p : [`${path}: ${show(value)} ${p}`];
    },
    fromText: spec.fromText ?? parseText,
    normalize: spec.normalize ?? ((v) => v),
  };
  const bad = field.check(spec.default, 'default');
  if (bad.length > 0) throw new Error(`invalid schema: ${bad.join('; ')}`);
  return field;
}

export interface NumSpec {
  default: number;
  /** Inclusive bounds. */
  min?: number;
  max?: number;
  integer?: boolean;
  doc: string;
}

/** A finite number, optionally an integer, within inclusive bounds. */
export function num(spec: NumSpec): Field<number> {
  const { min = -Infinity, max = Infinity, integer = false } = spec;
  const range = `${min === -Infinity ? '(-∞' : `[${min}`}, ${max === Infinity ? '∞)' : `${max}]`}`;
  const bounded = min !== -Infinity || max !== Infinity;
  return leaf({
    default: spec.default,
    doc: spec.doc,
    allowed: integer ? `integer${bounded ? ` in ${range}` : ''}` : bounded ? range : 'number',
    problem: (v) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) return 'is not a finite number';
      if (integer && !Number.isInteger(v)) return 'is not an integer';
      if (v < min || v > max) return `is outside ${range}`;
      return undefined;
    },
  });
}

/** Shorthands for the two most common numbers: a count (integer ≥ 1) and a fraction in [0, 1]. */
export const positive = (def: number, doc: string): Field<number> => num({ default: def, min: 1, integer: true, doc });
export const fraction = (def: number, doc: string): Field<number> => num({ default: def, min: 0, max: 1, doc });

export function bool(spec: { default: boolean; doc: string }): Field<boolean> {
  return leaf({
    ...spec,
    allowed: 'true | false',
    problem: (v) => (typeof v === 'boolean' ? undefined : 'is not a boolean'),
  });
}

export function str(spec: { default: string; doc: string }): Field<string> {
  return leaf({
    ...spec,
    allowed: 'string',
    problem: (v) => (typeof v === 'string' ? undefined : 'is not a string'),
    fromText: stringText,
  });
}

/** A string that `pattern` matches; `allowed` spells the pattern for errors and --help. */
export function matching(spec: { default: string; doc: string; allowed: string; pattern: RegExp }): Field<string> {
  return leaf({
    default: spec.default,
    doc: spec.doc,
    allowed: spec.allowed,
    problem: (v) => (typeof v === 'string' && spec.pattern.test(v) ? undefined : `is not ${spec.allowed}`),
    fromText: stringText,
  });
}

/** One of a fixed set of values (strings or numbers); the config type is their union. */
function oneOf<T extends string | number>(choices: readonly T[], defaultValue: T, doc: string, read: Pick<LeafSpec<T>, 'fromText' | 'normalize'>): Field<T> {
  const allowed = choices.join(' | ');
  return leaf({
    default: defaultValue,
    doc,
    allowed,
    problem: (v) => ((choices as readonly unknown[]).includes(v) ? undefined : `is not one of ${allowed}`),
    ...read,
  });
}

/** One of a fixed set of strings; the config type is their union. */
export const choice = <const C extends readonly [string, ...string[]]>(choices: C, defaultValue: C[number], doc: string): Field<C[number]> =>
  oneOf(choices, defaultValue, doc, {
    fromText: stringText,
    // YAML and JSON read `channels: 3` as a number; the choice means the same thing.
    normalize: (v) => (typeof v === 'number' && choices.includes(String(v)) ? String(v) : v),
  });

/**
 * One of a fixed set of numbers; the config type is their union. Digit
 * strings ('3' in a config.json written when channels were strings) mean
 * the same number.
 */
export const numChoice = <const C extends readonly [number, ...number[]]>(choices: C, defaultValue: C[number], doc: string): Field<C[number]> =>
  oneOf(choices, defaultValue, doc, {
    normalize: (v) => (typeof v === 'string' && v.trim() !== '' && choices.includes(Number(v)) ? Number(v) : v),
  });

export interface ListSpec<T> {
  default: readonly T[];
  doc: string;
  minLength?: number;
  maxLength?: number;
}

/** A list whose items are all checked by `item` (its own default is unused). */
export function list<T>(item: Field<T>, spec: ListSpec<T>): Field<readonly T[]> {
  const { minLength = 0, maxLength = Infinity } = spec;
  const lengths = maxLength === Infinity ? `at least ${minLength}` : `${minLength}–${maxLength}`;
  return leaf({
    default: spec.default,
    doc: spec.doc,
    allowed: `list of ${item.allowed}${minLength > 0 || maxLength < Infinity ? `, length ${lengths}` : ''}`,
    problem: (v, path) => {
      if (!Array.isArray(v)) return 'is not a list';
      if (v.length < minLength || v.length > maxLength) return `has ${v.length} items, needs ${lengths}`;
      return v.flatMap((x, i) => item.check(x, `${path}[${i}]`));
    },
  });
}

export function group<const S extends Shape>(fields: S, doc = ''): Group<S> {
  return { kind: 'group', fields, doc };
}

/** Every node below `node` (groups and fields) with its dotted path, in declaration order. */
export function* walk(node: Node, path = ''): Generator<[string, Node]> {
  if (node.kind !== 'group') return;
  for (const [key, child] of Object.entries(node.fields)) {
    const childPath = path ? `${path}.${key}` : key;
    yield [childPath, child];
    yield* walk(child, childPath);
  }
}

/** The node at a dotted path, or undefined when there is none. */
export function nodeAt(schema: Group, path: string): Node | undefined {
  let node: Node | undefined = schema;
  for (const key of path.split('.')) {
    if (node?.kind !== 'group' || !Object.hasOwn(node.fields, key)) return undefined;
    node = node.fields[key];
  }
  return node;
}

/**
 * A copy of `schema` whose fields at the given dotted paths default to other
 * values (checked like any default), for a layer that reuses another's
 * settings with its own starting point (post-training reuses the tokenizer's
 * losses with the GAN on from step 0).
 */
export function withDefaults<S extends Shape>(schema: Group<S>, defaults: Record<string, unknown>, prefix = ''): Group<S> {
  for (const path of Object.keys(defaults)) {
    if (nodeAt(schema, path)?.kind !== 'field') throw new Error(`invalid schema: withDefaults names '${path}', which is not a setting`);
  }
  const fields = Object.fromEntries(Object.entries(schema.fields).map(([key, node]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (node.kind === 'group') return [key, withDefaults(node, Object.fromEntries(Object.entries(defaults)
      .filter(([p]) => p.startsWith(`${key}.`)).map(([p, v]) => [p.slice(key.length + 1), v])), path)];
    if (!Object.hasOwn(defaults, key)) return [key, node];
    const bad = node.check(defaults[key], path);
    if (bad.length > 0) throw new Error(`invalid schema: ${bad.join('; ')}`);
    return [key, { ...node, default: defaults[key] }];
  })) as unknown as S;
  return { kind: 'group', fields, doc: schema.doc };
}
