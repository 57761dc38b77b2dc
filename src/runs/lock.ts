// The run folder's lock file: one writer per folder. It records who holds it
// — pid, host, boot id, the holder's kernel start time and a wall-clock
// start — so a later starter can tell a live writer from a dead one even
// when the pid is alive again as another process (a restarted container
// runs its trainer as pid 1 every time).
//
// - Taking it is atomic: the contents go to a temporary file that is then
//   hard-linked to the lock path, which fails if the lock exists; there is
//   no moment at which the lock exists but is empty.
// - An empty or unreadable lock younger than a few seconds is held (an older
//   robustok, or a file system without hard links, creates it first and
//   writes it next); an older one was left by an interrupted start.
// - A lock whose holder is gone (not running, another process under its pid,
//   or written before this machine last booted) is taken over with a log
//   line. When that cannot be told (no /proc, another host), the error names
//   the lock file and the command that clears it.
import { linkSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootId, processStartTime } from './process_identity.js';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  /** The holder's start time in clock ticks since boot (/proc/PID/stat), null where unknown. */
  processStart?: string | null;
  bootId?: string | null;
}

/** An empty or unreadable lock this young may be a starter between create and write. */
export const YOUNG_LOCK_MS = 5000;

/** Lock files this process holds (resolved paths): a lock naming our pid is ours only if listed here. */
const heldHere = new Set<string>();

/** Whether process `pid` exists on this host (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const readRaw = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

function parseLock(text: string | null): LockInfo | null {
  try {
    const info = JSON.parse(text ?? '') as Partial<LockInfo>;
    if (typeof info.pid !== 'number' || typeof info.host !== 'string') return null;
    return { pid: info.pid, host: info.host, startedAt: String(info.startedAt), processStart: info.processStart ?? null, bootId: info.bootId ?? null };
  } catch {
    return null;
  }
}

export const readLock = (file: string): LockInfo | null => parseLock(readRaw(file));

/** Where a lock stands: held by a live writer, left by a gone one, or undecidable from here. */
type Verdict = { state: 'held' | 'stale' | 'unknown'; why: string };

/** Judges a readable lock's holder against this machine's processes. */
export function judgeHolder(file: string, holder: LockInfo): Verdict {
  const host = os.hostname();
  if (holder.host !== host) return { state: 'unknown', why: `it was taken on ${holder.host}, not on this host (${host})` };
  const boot = bootId();
  if (holder.bootId && boot && holder.bootId !== boot) return { state: 'stale', why: 'it was taken before this machine last started (another boot id)' };
  const live = processStartTime(holder.pid);  // null for a pid that is gone
  if (holder.pid === process.pid) {
    // Ours if this process took it, or (another copy of this module, a test) if it records our own start time.
    if (heldHere.has(path.resolve(file)) || (holder.processStart && holder.processStart === live)) return { state: 'held', why: 'this process holds it' };
    if (holder.processStart) return { state: 'stale', why: `pid ${holder.pid} is this process now, which did not take it (the pid was reused, as after a container restart)` };
    return { state: 'unknown', why: `pid ${holder.pid} is this process, which did not take it, and the lock records no start time to tell whether its writer is gone` };
  }
  if (!isAlive(holder.pid)) return { state: 'stale', why: `pid ${holder.pid} is no longer running` };
  if (holder.processStart && live) {
    return live === holder.processStart
      ? { state: 'held', why: `pid ${holder.pid} is running` }
      : { state: 'stale', why: `pid ${holder.pid} is running but is another process than the one that took it (it started later: the pid was reused)` };
  }
  return { state: 'unknown', why: `pid ${holder.pid} is running, and whether it is the process that took the lock cannot be told here` };
}

/** Whether a live process holds the lock `file` (a run still training; the web app shows it live). */
export function isLockHeld(file: string): boolean {
  const holder = readLock(file);
  return holder !== null && judgeHolder(file, holder).state !== 'stale';
}

function ownInfo(): LockInfo {
  return { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), processStart: processStartTime(process.pid), bootId: bootId() };
}

/** Creates the lock with its contents in one step (link of a written temporary file); false if it exists. */
function tryCreate(file: string, info: LockInfo): boolean {
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, `${JSON.stringify(info)}\n`);
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`cannot create the lock ${file}: ${(error as Error).message}`, { cause: error });
  } finally {
    rmSync(temporary, { force: true });
  }
}

/**
 * Removes the stale lock whose text was `seen`, unless another starter has
 * replaced it meanwhile: it is renamed aside (one renamer wins) and put back
 * if what moved is not what was judged.
 */
function removeStale(file: string, seen: string | null): void {
  const aside = `${file}.stale.tmp-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;  // another starter removed it first
    throw error;
  }
  if (readRaw(aside) !== seen) {
    try {
      linkSync(aside, file);
    } catch { /* a third starter holds it now: the retry sees that */ }
  }
  rmSync(aside, { force: true });
}

const clearHint = (file: string) => `if no robustok process is writing it, remove the lock: rm ${JSON.stringify(file)}`;

/** Takes `dir`'s lock `file` for this process, or throws naming the holder and the lock file. */
export function takeLock(dir: string, file: string, log: (message: string) => void): void {
  const me = ownInfo();
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(file, me)) {
      heldHere.add(path.resolve(file));
      return;
    }
    const seen = readRaw(file);
    const holder = parseLock(seen);
    if (holder === null) {
      let age: number;
      try {
        age = Date.now() - statSync(file).mtimeMs;
      } catch {
        continue;  // gone since: try again
      }
      if (age < YOUNG_LOCK_MS) {
        throw new Error(`${dir} is being locked by another process right now (${file} is ${seen ? 'unreadable' : 'empty'}, ${Math.round(age)} ms old); ` +
          `try again in a few seconds; ${clearHint(file)}`);
      }
      log(`taking over ${file} (unreadable: left by an interrupted start)`);
    } else {
      const verdict = judgeHolder(file, holder);
      if (verdict.state === 'held' && holder.pid === process.pid) throw new Error(`${dir} is already open in this process`);
      if (verdict.state !== 'stale') {
        throw new Error(`${dir} is being written by pid ${holder.pid}${holder.host === me.host ? '' : ` on ${holder.host}`} since ${holder.startedAt}; ` +
          `wait for it to finish, stop it, or choose another --out${verdict.state === 'unknown' ? ` (${verdict.why}; ${clearHint(file)})` : ''}`);
      }
      log(`taking over ${file} from pid ${holder.pid} (started ${holder.startedAt}): ${verdict.why}`);
    }
    removeStale(file, seen);
  }
  throw new Error(`${dir} was locked by another process while this one took over a stale lock; try again`);
}

/** Removes the lock if this process holds it (idempotent). */
export function releaseLock(file: string): void {
  if (!heldHere.delete(path.resolve(file))) return;
  if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
}
