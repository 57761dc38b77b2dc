// Which process a pid is, beyond the number: pids are reused, and after a
// container restart the trainer is pid 1 again (or whatever pid the new
// container hands out), so "pid N is alive" does not mean "the writer that
// took the lock is alive". The kernel's start time of a process (clock ticks
// since boot, /proc/PID/stat field 22) and the boot id tell one incarnation
// of a pid from the next. Off Linux, or without /proc, both are null and
// callers must treat the answer as unknown.
import { readFileSync } from 'node:fs';

const readText = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

/**
 * The start time of process `pid` (field 22 of /proc/PID/stat, as text), or
 * null when it cannot be read. The command name (field 2) may hold spaces
 * and parentheses, so fields are counted from its closing ')'.
 */
export function processStartTime(pid: number): string | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;  // fields[0] is field 3 (state)
}

/** This boot's id (changes at every reboot of the machine or VM), or null without /proc. */
export function bootId(): string | null {
  return readText('/proc/sys/kernel/random/boot_id')?.trim() || null;
}
