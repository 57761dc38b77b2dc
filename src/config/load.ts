// Reading a preset file: YAML (.yaml, .yml) or JSON (.json), chosen by
// extension. Errors name the file and, for syntax errors, the line and
// column, since presets are edited by hand.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { YAMLParseError, parse as parseYaml } from 'yaml';

/** 1-based line and column of a character offset in `text`. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    // V8 reports "at position N"; an early end of input has no position.
    const offset = Number(/at position (\d+)/.exec(message)?.[1] ?? text.length);
    throw new Error(`${path}:${lineColumn(text, offset)}: invalid JSON: ${message}`);
  }
}

function parseYamlFile(text: string, path: string): unknown {
  try {
    return parseYaml(text);
  } catch (e) {
    if (!(e instanceof YAMLParseError)) throw e;
    const at = e.linePos?.[0];
    const reason = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new Error(`${path}${at ? `:${at.line}:${at.col}` : ''}: invalid YAML: ${reason}`);
  }
}

/**
 * The settings in a preset file, as a plain object for `resolveConfig`
 * (validation happens there, against the schema). The top level must be a
 * mapping. A file with no settings at all (empty, only comments, `null`) is
 * an error rather than an empty preset: it is far more often a file that
 * was cut short or saved blank than a wish for the defaults, and running
 * the full default training on it would hide that. `{}` asks for the
 * defaults explicitly.
 */
export function loadConfigFile(path: string): Record<string, unknown> {
  const parsers: Record<string, (text: string, path: string) => unknown> = { '.json': parseJson, '.yaml': parseYamlFile, '.yml': parseYamlFile };
  const parser = parsers[extname(path).toLowerCase()];
  if (!parser) throw new Error(`${path}: unsupported config file type (expected .yaml, .yml or .json)`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `config file not found: ${path}` : `cannot read config file ${path}: ${(e as Error).message}`);
  }
  const value = parser(text, path);
  if (value === null || value === undefined) {
    throw new Error(`${path}: the file holds no settings (${text.trim() === '' ? 'it is empty' : 'only comments or null'}); ` +
      'write the settings to change, or {} to use every default');
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${path}: the top level must be a mapping of settings, not ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}
