// `robustok serve`: the web app over a folder of runs, on localhost by default.
import { startServer } from '../server/index.js';
import { readFlags } from './flags.js';

const usage = `usage: robustok serve [--runs DIR] [--host 127.0.0.1] [--port 7860] [--cache-mb 1024]

  --runs DIR      the folder holding run folders (default: runs); nothing outside it is served
  --host HOST     the address to listen on (default 127.0.0.1: this machine only)
  --port N        the port (default 7860; 0 picks a free one)
  --cache-mb N    memory for loaded models, in MB of weights (default 1024)`;

export async function serveCommand(argv: string[]): Promise<void> {
  let runs = 'runs';
  let host = '127.0.0.1';
  let port = 7860;
  let cacheMb = 1024;
  readFlags(argv, usage, (flag, read) => {
    if (flag === '--runs') runs = read.value();
    else if (flag === '--host') host = read.value();
    else if (flag === '--port') {
      const text = read.value();
      port = Number(text);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535], got '${text}'`);
    } else if (flag === '--cache-mb') cacheMb = read.integer();
    else if (flag === '--help' || flag === '-h') {
      console.log(usage);
      process.exit(0);
    } else return false;
    return true;
  });
  const server = await startServer({ runs, host, port, cacheBytes: cacheMb * (1 << 20) });
  console.log(`robustok serve: ${server.url} (runs under ${runs}; Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    const stop = () => void server.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
