// What a command prints: console.log captured while it runs (restored after, also on failure).

/** Runs `fn` and returns the lines it logged, joined by newlines. */
export async function loggedBy(fn: () => Promise<void>): Promise<string> {
  const logged: string[] = [];
  const { log } = console;
  console.log = (...a: unknown[]) => void logged.push(a.join(' '));
  try {
    await fn();
  } finally {
    console.log = log;
  }
  return logged.join('\n');
}
