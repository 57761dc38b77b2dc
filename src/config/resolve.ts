// Resolving a config: defaults ← preset file(s) ← `--set key.path=value`
// overrides, then validation against the schema. Every problem is collected
// and reported at once, so a user fixes a config in one round, not one
// error per run.
import { type Group, type Infer, type Node, type Shape, nodeAt, parseText, show, walk } from './schema.js';
import { nearestKey } from './suggest.js';

/** An invalid config; `issues` holds one message per problem, each naming its key path. */
export class ConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid config:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

type Plain = { [key: string]: unknown };

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `over` laid over `under`: objects merge key by key, anything else (lists
 * included) replaces. Built with `fromEntries` so a "__proto__" key stays an
 * ordinary key (and is reported as unknown) instead of changing a prototype.
 */
function merge(under: unknown, over: unknown): unknown {
  if (!isPlain(under) || !isPlain(over)) return over;
  const keys = new Set([...Object.keys(under), ...Object.keys(over)]);
  return Object.fromEntries(
    [...keys].map((k) => [k, !Object.hasOwn(over, k) ? under[k] : Object.hasOwn(under, k) ? merge(under[k], over[k]) : over[k]]),
  );
}

/** `key.path=value` as a nested object, its value read as the field at that path reads text. */
function overrideSource(schema: Group, text: string, issues: string[]): Plain[] {
  const eq = text.indexOf('=');
  const path = text.slice(0, eq).trim();
  if (eq < 0 || path.split('.').some((key) => key === '')) {
    issues.push(`bad override ${show(text)}: expected key.path=value`);
    return [];
  }
  const node = nodeAt(schema, path);
  const raw = text.slice(eq + 1);
  const value = node?.kind === 'field' ? node.fromText(raw) : parseText(raw);
  return [path.split('.').reduceRight<unknown>((inner, key) => Object.fromEntries([[key, inner]]), value) as Plain];
}

/** The value of `node` at `path` from the merged `raw` input (undefined: not given), pushing any problems. */
function resolveNode(node: Node, raw: unknown, path: string, schema: Group, issues: string[]): unknown {
  if (node.kind === 'field') {
    const value = raw === undefined ? node.default : node.normalize(raw);
    issues.push(...node.check(value, path));
    return value;
  }
  const keys = Object.keys(node.fields);
  let given: Plain = {};
  if (isPlain(raw)) given = raw;
  else if (raw !== undefined) issues.push(`${path || '(top level)'}: ${show(raw)} is not a group of settings (keys: ${keys.join(', ')})`);
  for (const key of Object.keys(given)) {
    if (Object.hasOwn(node.fields, key)) continue;
    const full = path ? `${path}.${key}` : key;
    const near = nearestKey(full, [...walk(schema)].map(([p]) => p));
    issues.push(`${full}: unknown key (${near ? `did you mean ${near}?` : `known here: ${keys.join(', ')}`})`);
  }
  return Object.fromEntries(keys.map((key) => [key, resolveNode(node.fields[key], given[key], path ? `${path}.${key}` : key, schema, issues)]));
}

/**
 * The config of `schema` from its defaults, then each of `sources` (parsed
 * preset files, later ones winning), then `overrides` ("key.path=value",
 * values as JSON where they parse, else strings). Throws a ConfigError
 * listing every invalid value and unknown key. The result is a fresh copy,
 * so it never aliases the schema's defaults or the sources.
 */
export function resolveConfig<S extends Shape>(
  schema: Group<S>,
  sources: readonly object[] = [],
  overrides: readonly string[] = [],
): Infer<Group<S>> {
  const issues: string[] = [];
  const layers = [...sources, ...overrides.flatMap((text) => overrideSource(schema, text, issues))];
  const merged = layers.reduce<unknown>(merge, {});
  const config = resolveNode(schema, merged, '', schema, issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return structuredClone(config) as Infer<Group<S>>;
}
