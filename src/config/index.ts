// Typed, validated configs: one schema per command (defaults, ranges and
// docs in one place), preset files, and `--set key.path=value` overrides.
export { type Field, type Group, type Infer, type Node, type Shape, bool, choice, fraction, group, list, matching, num, numChoice, positive, str, withDefaults } from './schema.js';
export { ConfigError, resolveConfig } from './resolve.js';
export { describeConfig } from './describe.js';
export { loadConfigFile } from './load.js';
