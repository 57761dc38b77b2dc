// One writer per run folder, and a folder that is tidy whatever killed the
// last writer. Every trainer opens its --out folder through `RunFolder.open`:
//  - an exclusive lock file (lock.ts): a second process on the same folder is
//    refused instead of silently interleaving checkpoints and metrics; a lock
//    left by a dead process (kill -9, power loss, a restarted container whose
//    pid is alive again as another process) is taken over;
//  - temporary files of interrupted atomic writes (`*.tmp-<pid>`, a model's
//    size each) are removed when their writer is gone;
//  - metrics.jsonl is cut back to the resumed step (the steps after the last
//    checkpoint are trained again and would be logged twice) and a torn last
//    line (a write cut short by a kill or a full disk) is dropped;
//  - config.json is written atomically, and run.json beside it says what
//    kind of run the folder holds (the web app lists runs by it).
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { namingFile, writeFileAtomic } from '../torch/index.js';
import { type RunPaths, runPaths } from './layout.js';
import { isAlive, isLockHeld, releaseLock, takeLock } from './lock.js';
import { RUN_KINDS, type RunKind } from './run_kind.js';

/** Whether a live writer holds `dir`'s lock (a run still training; the web app shows it live). */
export function isBeingWritten(dir: string): boolean {
  return isLockHeld(runPaths(dir).lock);
}

/**
 * Temporary files of atomic writes whose writer is no longer running, under
 * `dir` (two levels). Called once the lock is ours, when nothing of this
 * process writes there yet: files named with our own pid were left by an
 * earlier process under the same pid (a restarted container).
 */
function staleTemporaries(dir: string, depth = 2): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && depth > 1) found.push(...staleTemporaries(full, depth - 1));
    const pid = /\.tmp-(\d+)$/.exec(entry.name)?.[1];
    if (entry.isFile() && pid !== undefined && (Number(pid) === process.pid || !isAlive(Number(pid)))) found.push(full);
  }
  return found;
}

export interface OpenOptions {
  /** Lines for the user (a taken-over lock, removed files). */
  log?: (message: string) => void;
}

export class RunFolder {
  readonly paths: RunPaths;
  #locked = false;
  /** A data-parallel rank other than 0: reads the folder, writes nothing (rank 0 holds the lock). */
  #follower = false;
  readonly #onExit = () => this.release();
  /** Bytes of metrics.jsonl that hold whole lines: a failed append is cut back to it. */
  #metricsSize = 0;

  private constructor(dir: string) {
    this.paths = runPaths(dir);
  }

  /** Creates `dir` if needed, takes its lock and removes leftovers of dead writers. */
  static open(dir: string, options: OpenOptions = {}): RunFolder {
    const log = options.log ?? (() => {});
    if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a folder; choose another --out`);
    const folder = new RunFolder(dir);
    mkdirSync(folder.paths.samples, { recursive: true });
    folder.#lock(log);
    for (const file of staleTemporaries(dir)) {
      rmSync(file, { force: true });
      log(`removed ${file}, left by an interrupted write`);
    }
    return folder;
  }

  /**
   * The folder as seen by a data-parallel rank other than 0 (src/train/distributed.ts):
   * it reads the checkpoint, takes no lock, and its writes are skipped.
   */
  static follow(dir: string): RunFolder {
    const folder = new RunFolder(dir);
    folder.#follower = true;
    return folder;
  }

  #lock(log: (message: string) => void): void {
    takeLock(this.paths.dir, this.paths.lock, log);
    this.#locked = true;
    process.on('exit', this.#onExit);
  }

  /** Releases the lock (also done at process exit; idempotent). */
  release(): void {
    if (!this.#locked) return;
    this.#locked = false;
    process.off('exit', this.#onExit);
    releaseLock(this.paths.lock);
  }

  /**
   * Writes the run's config and its kind. The kind goes in a file of its own,
   * not in config.json: that file is read back through the config's schema
   * (--resume) and serves as a preset, where an extra key is an error.
   */
  writeConfig(kind: RunKind, config: unknown): void {
    if (this.#follower) return;
    writeFileAtomic(this.paths.config, [Buffer.from(`${JSON.stringify(config, null, 2)}\n`)]);
    writeFileAtomic(this.paths.kind, [Buffer.from(`${JSON.stringify({ kind })}\n`)]);
  }

  /**
   * Starts metrics.jsonl afresh (`step` = 0) or keeps the lines of steps up to
   * `step` (a resume), dropping a torn or unparsable line. Returns the lines dropped.
   */
  resetMetrics(step = 0): number {
    if (this.#follower) return 0;
    const file = this.paths.metrics;
    if (existsSync(file) && statSync(file).isDirectory()) {
      throw new Error(`${file} is a folder, but a run keeps its metrics there (one JSON line per logged step): move it away, or choose another --out`);
    }
    const lines = step > 0 && existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
    const kept = lines.filter((line) => {
      try {
        const s = (JSON.parse(line) as { step?: unknown }).step;
        return typeof s === 'number' && s <= step;
      } catch {
        return false;
      }
    });
    const text = kept.map((l) => `${l}\n`).join('');
    writeFileAtomic(file, [Buffer.from(text)]);
    this.#metricsSize = Buffer.byteLength(text);
    return lines.length - kept.length;
  }

  /** Appends one line; if the write fails part-way (full disk), the partial line is cut off before rethrowing. */
  appendMetrics(record: object): void {
    if (this.#follower) return;
    const line = `${JSON.stringify(record)}\n`;
    try {
      appendFileSync(this.paths.metrics, line);
      this.#metricsSize += Buffer.byteLength(line);
    } catch (error) {
      try {
        truncateSync(this.paths.metrics, this.#metricsSize);
      } catch { /* the original error says more */ }
      throw namingFile(error, this.paths.metrics, 'append to');
    }
  }
}

/** The kind DIR/run.json records, or null when it records none (a folder written before run.json existed, or not a run). */
export function recordedRunKind(dir: string): RunKind | null {
  try {
    const { kind } = JSON.parse(readFileSync(runPaths(dir).kind, 'utf8')) as { kind?: unknown };
    return RUN_KINDS.find((k) => k === kind) ?? null;
  } catch {
    return null;  // absent, or being written
  }
}

/** A JSON file that must hold an object, with errors that name the file and say what it is. */
export function readJsonObject(file: string, what: string): object {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} (${what}) is not valid JSON: ${error instanceof Error ? error.message : String(error)}; ` +
      'restore it or start a new run in another folder');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${file} (${what}) must hold a JSON object, found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value;
}
