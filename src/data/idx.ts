// IDX files (the MNIST family's format): a big-endian header of magic
// (0, 0, type 0x08 = uint8, rank) and `rank` uint32 dimensions, then the
// data. Read possibly gzipped, and only as far as the items asked for, so a
// look at a few samples does not inflate the whole file.
import { closeSync, createReadStream, existsSync, openSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';

export interface Idx {
  /** All dimensions from the header: dims[0] is the total number of items. */
  dims: number[];
  /** The first `count` items, row-major. */
  data: Uint8Array;
  count: number;
}

/** Reads the header and the first `limit` items (all when undefined). */
export async function readIdx(file: string, limit?: number): Promise<Idx> {
  if (!existsSync(file)) throw new Error(`IDX file ${file} is missing`);
  const gz = file.endsWith('.gz');
  const head = gz ? await readGzPrefix(file, 4) : readRawPrefix(file, 0, 4);
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0 || head[2] !== 0x08) throw new Error(`${file} is not an unsigned-byte IDX file (bad magic)`);
  const rank = head[3]!;
  const headerBytes = 4 + 4 * rank;
  const header = gz ? await readGzPrefix(file, headerBytes) : readRawPrefix(file, 0, headerBytes);
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const itemSize = dims.slice(1).reduce((a, b) => a * b, 1);
  const count = Math.min(dims[0]!, limit ?? dims[0]!);
  const end = headerBytes + count * itemSize;
  const bytes = gz ? await readGzPrefix(file, end) : readRawPrefix(file, 0, end);
  if (bytes.length < end) throw new Error(`${file} is truncated: expected ${end} bytes for ${count} items, found ${bytes.length}`);
  return { dims, data: bytes.subarray(headerBytes, end), count };
}

function readRawPrefix(file: string, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const fd = openSync(file, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** Inflates only until `length` bytes are out, then stops reading. */
function readGzPrefix(file: string, length: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const out = new Uint8Array(length);
    let done = 0;
    const input = createReadStream(file);
    const gunzip = createGunzip();
    const finish = (): void => {
      input.destroy();
      gunzip.destroy();
      resolve(out.subarray(0, done));
    };
    gunzip.on('data', (chunk: Buffer) => {
      const n = Math.min(chunk.length, length - done);
      out.set(chunk.subarray(0, n), done);
      done += n;
      if (done >= length) finish();
    });
    gunzip.on('end', finish);
    gunzip.on('error', (error) => reject(new Error(`${file}: ${error.message}`)));
    input.on('error', reject);
    input.pipe(gunzip);
  });
}
