// The web app behind `robustok serve` (docs/design.md §10): a local HTTP
// server over the run folders, with a tokenizer lab and a generator lab
// whose models run on a worker thread.
export { type ServeOptions, type RunningServer, startServer } from './server.js';
export { HttpError } from './http_error.js';
