// What a run folder holds, as its writer records it in DIR/run.json (the web
// app lists runs by it). Values only, importing nothing: the page's compile
// (web/tsconfig.json) reaches this file through the server's API types, and
// must not reach libtorch or Node.
export const RUN_KINDS = ['tokenizer', 'post-trained tokenizer', 'generator', 'reproduce'] as const;

export type RunKind = typeof RUN_KINDS[number];
