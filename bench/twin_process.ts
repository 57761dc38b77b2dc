// A benchmark's PyTorch twin as a child process driven one command at a time:
// the Node side of the protocol bench/twin_protocol.py serves. The twin runs as
//
//   /usr/bin/python3 SCRIPT THREADS ...ARGS COMMANDS ANSWERS
//
// prints "ready" on stdout once it is set up, then answers each command line
// written to the named pipe COMMANDS with one line on the named pipe ANSWERS
// ("error: …" when it cannot do it).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { twinEnv } from './twin_env.js';

/** A started twin that takes the commands `C`. */
export interface Twin<C extends string> {
  /** Sends one command and waits (blocking) for the twin's one-line answer. */
  ask(command: C): string;
  close(): void;
}

/**
 * Starts the Python twin `script` on `threads` threads, `args` after the
 * thread count. Commands and answers go through two named pipes read and
 * written synchronously: waiting on a promise would leave Node's event loop
 * idle while the twin works, and V8 spends idle time on garbage collection
 * (its memory reducer), which then overlaps robustok's next timed call — a
 * cost a training loop, which never idles, does not pay.
 */
export async function startTwin<C extends string>(script: string, args: string[], threads: number): Promise<Twin<C>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'robustok-twin-'));
  const [commandPipe, answerPipe] = [path.join(dir, 'commands'), path.join(dir, 'answers')];
  execFileSync('mkfifo', [commandPipe, answerPipe]);
  const child = spawn('/usr/bin/python3', [script, String(threads), ...args, commandPipe, answerPipe], { stdio: ['ignore', 'pipe', 'inherit'], env: twinEnv(threads) });
  // Start-up is awaited on stdout, so a twin that fails to start is an error, not a hang on opening a pipe.
  const first = await new Promise<string>((resolve) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => { text += chunk.toString(); if (text.includes('\n')) resolve(text.trim()); });
    child.on('exit', () => resolve(text.trim()));
  });
  if (first !== 'ready') {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the PyTorch twin (${script}) did not start (is python3-torch installed? its error is above)${first ? `; it said: ${first}` : ''}`);
  }
  // The twin opens the command pipe to read, then the answer pipe to write: the same order here.
  const commands = openSync(commandPipe, 'w');
  const answers = openSync(answerPipe, 'r');
  rmSync(dir, { recursive: true, force: true });
  const buffer = Buffer.alloc(1 << 16);
  let pending = '';
  const readLine = (): string => {
    while (!pending.includes('\n')) {
      const n = readSync(answers, buffer);
      if (n === 0) throw new Error(`the PyTorch twin (${script}) ended early (its error is above)`);
      pending += buffer.toString('utf8', 0, n);
    }
    const end = pending.indexOf('\n');
    const line = pending.slice(0, end);
    pending = pending.slice(end + 1);
    return line;
  };
  return {
    ask: (command) => {
      writeSync(commands, `${command}\n`);
      const answer = readLine();
      if (answer.startsWith('error')) throw new Error(`PyTorch twin: ${answer}`);
      return answer;
    },
    close: () => {
      writeSync(commands, 'quit\n');
      closeSync(commands);
      closeSync(answers);
    },
  };
}
