// The `--help` listing of a schema: every key with its default, doc and
// allowed values, in the same `key=value` form that `--set` takes.
import { type Group, show, walk } from './schema.js';

/** One line per setting, "key = default  # doc (allowed: …)", after a "# group: doc" line for documented groups. */
export function describeConfig(schema: Group): string[] {
  return [...walk(schema)].flatMap(([path, node]) =>
    node.kind === 'group'
      ? node.doc ? [`# ${path}: ${node.doc}`] : []
      : [`${path} = ${show(node.default)}  # ${node.doc} (allowed: ${node.allowed})`],
  );
}
