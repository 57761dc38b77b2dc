// A codebook's metric: RobusTok and LlamaGen compare normalised vectors,
// taming raw ones (docs/method.md §3, "Published tokenizers"). A file of its
// own, importing nothing, so the page's compile (web/tsconfig.json) can name
// it through the server's API types without reaching libtorch.
export type CodeDistance = 'cosine' | 'euclidean';
