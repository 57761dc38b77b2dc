// Cache keys name the exact source bytes by path, size and mtime: cheap to
// compute (one stat per file) and changed by any edit, copy or touch.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';

export function fingerprintFiles(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) {
    const s = statSync(file);
    hash.update(`${file}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return hash.digest('hex');
}
