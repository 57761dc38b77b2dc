// The config fields every command that reads a dataset shares (training a
// tokenizer, training a classifier), so names, defaults and docs agree.
import { num, numChoice, positive, str } from '../config/index.js';

/** `name`, `size`, `channels`, `limit`; `size` and `limit` docs say what they mean to the command. */
export function datasetFields(docs: { size: string; limit: string }) {
  return {
    name: str({ default: 'fashion-mnist', doc: 'dataset: fashion-mnist, mnist, emoji or folder:PATH' }),
    size: positive(32, docs.size),
    channels: numChoice([1, 3], 1, 'image channels (1 keeps greyscale, 3 converts to RGB)'),
    limit: num({ default: 0, min: 0, integer: true, doc: docs.limit }),
  };
}
