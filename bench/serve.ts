// The tokenizer lab's slider latency: what one move of the α slider costs on
// the server. Starts `robustok serve`'s server on a free port over --runs,
// warms the model (the first request loads it), then sends the requests a
// slider drag sends — α from 0 to 1 in steps of 0.05, one at a time, as the
// page's latest-only queue does — and reports the median and 90th
// percentile of three times:
//  - model: encode, perturb, decode clean and perturbed, on the worker;
//  - server: the whole request on the server (JSON, image fit, worker, PNG encoding);
//  - round trip: as the client sees it over HTTP on localhost.
//
//   node dist/bench/serve.js --runs DIR --run NAME [--delta 8] [--rounds 3]
import { startServer } from '../src/server/index.js';
import { getNumThreads } from '../src/torch/index.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback?: string): string => {
  const i = args.indexOf(name);
  const value = i >= 0 ? args[i + 1] : fallback;
  if (value === undefined) throw new Error(`usage: node dist/bench/serve.js --runs DIR --run NAME [--delta 8] [--rounds 3] (${name} is missing)`);
  return value;
};
const runs = flag('--runs');
const run = flag('--run');
const delta = Number(flag('--delta', '8'));
const rounds = Number(flag('--rounds', '3'));

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

const server = await startServer({ runs, port: 0 });
try {
  const ask = async (alpha: number) => {
    const started = performance.now();
    const response = await fetch(new URL('/api/tokenizer/reconstruct', server.url), { method: 'POST', body: JSON.stringify({ run, image: { test: 0 }, alpha, delta, seed: 0 }) });
    const json = await response.json() as { ms: number; serverMs: number; error?: string };
    if (!response.ok) throw new Error(json.error);
    return { model: json.ms, server: json.serverMs, roundTrip: performance.now() - started };
  };
  const first = await ask(0);  // loads the tokenizer and prepares the test split
  const times: { model: number; server: number; roundTrip: number }[] = [];
  for (let r = 0; r < rounds; r++) for (let step = 0; step <= 20; step++) times.push(await ask(step / 20));
  const summary = Object.fromEntries((['model', 'server', 'roundTrip'] as const).map((k) => {
    const values = times.map((t) => t[k]);
    return [k, { median: Number(quantile(values, 0.5).toFixed(1)), p90: Number(quantile(values, 0.9).toFixed(1)) }];
  }));
  console.log(`${run}: ${times.length} slider updates, δ = ${delta}, ${getNumThreads()} libtorch thread(s); first request (loads the model) ${first.roundTrip.toFixed(0)} ms`);
  for (const [k, v] of Object.entries(summary)) console.log(`  ${k.padEnd(10)} median ${v.median} ms, p90 ${v.p90} ms`);
  console.log(JSON.stringify({ run, delta, updates: times.length, firstMs: first.roundTrip, ...summary }));
} finally {
  await server.close();
}
