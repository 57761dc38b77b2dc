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
 * (validation happens there, against the schema). An empty file is an
 * empty preset; a top level that is not a mapping is an error.
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
  const value = parser(text, path) ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${path}: the top level must be a mapping of settings, not ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}
