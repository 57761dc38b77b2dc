// `robustok serve`: the web app over a folder of runs, on localhost by default.
import { startServer } from '../server/index.js';
import { resolveDevice } from '../train/index.js';
import { flagLines, flagTable, parseNumber, positiveInteger, readFlags, wantsHelp } from './flags.js';

const flags = flagTable({
  runs: { value: 'DIR', help: 'the folder holding run folders; nothing outside it is served', default: 'runs' },
  host: { value: 'HOST', help: 'the address to listen on (the default: this machine only)', default: '127.0.0.1' },
  port: { value: 'N', help: 'the port (0 picks a free one)', default: 7860, parse: (text, flag) => parseNumber(flag, text, (v) => Number.isInteger(v) && v >= 0 && v <= 65535, 'an integer in [0, 65535]') },
  'cache-mb': { value: 'N', help: 'memory for loaded models, in MB of weights', default: 1024, parse: positiveInteger },
  device: { value: 'cpu|cuda|cuda:N|auto', help: 'where the labs\' models compute', default: 'cpu' },
});

const usage = `usage: robustok serve [--runs DIR] [--host 127.0.0.1] [--port 7860] [--cache-mb 1024] [--device cpu]

${flagLines(flags)}`;

export async function serveCommand(argv: string[]): Promise<void> {
  if (wantsHelp(argv)) {
    console.log(usage);
    return;
  }
  const f = readFlags(argv, flags, usage);
  const device = resolveDevice(f.device);  // a missing GPU is refused before the server listens
  const server = await startServer({ runs: f.runs, host: f.host, port: f.port, cacheBytes: f['cache-mb'] * (1 << 20), device });
  console.log(`robustok serve: ${server.url} (runs under ${f.runs}; models on ${device}; Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    const stop = () => void server.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
