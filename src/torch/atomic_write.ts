// Checkpoint files on disk: written atomically, read in one piece.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes `chunks` to `file` so that readers see either the old file or the
 * complete new one, never a half-written file: the bytes go to
 * `file.tmp-<pid>`, are flushed to disk (fsync), and only then is the
 * temporary file renamed over `file`. `chunks` may be a lazy generator (one
 * tensor's bytes at a time); if it throws, the temporary file is removed and
 * `file` is left as it was.
 */
export function writeFileAtomic(file: string, chunks: Iterable<Uint8Array>): void {
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(temporary, 'w');
    try {
      for (const chunk of chunks) {
        for (let done = 0; done < chunk.byteLength;) done += writeSync(fd, chunk, done);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw namingFile(error, file, 'write');
  }
  syncDirectory(path.dirname(file));
}

/**
 * A system error (ENOSPC, EISDIR, EACCES …) with the file it was about:
 * Node's own message names none for a write ("ENOSPC: no space left on
 * device, write"). Its `code` is kept; other errors pass as they are.
 */
export function namingFile(error: unknown, file: string, verb: string): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (!(error instanceof Error) || typeof code !== 'string' || error.message.includes(file)) return error;
  return Object.assign(new Error(`cannot ${verb} ${file}: ${error.message}`, { cause: error }), { code });
}

/** Makes the rename itself durable; directories cannot be opened for this on Windows. */
function syncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The whole file in one Buffer, read in pieces: `readFileSync` refuses files
 * over 2 GiB, which large checkpoints reach. `what` names the file's kind in
 * the error for a missing file.
 */
export function readFileWhole(file: string, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${what} not found: ${file}`);
    throw error;
  }
  try {
    const bytes = Buffer.allocUnsafe(fstatSync(fd).size);
    const piece = 1 << 30;
    for (let done = 0; done < bytes.length;) {
      const read = readSync(fd, bytes, done, Math.min(piece, bytes.length - done), done);
      if (read === 0) throw new Error(`${file} shrank while being read`);
      done += read;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}
