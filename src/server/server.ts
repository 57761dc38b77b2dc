// `robustok serve`'s server: Node's own http module, a table of routes (the
// one list of them: typed against api_types.ts, and what a 404 or 405 names),
// one page. Node's http rather than a framework: the app has a dozen routes, no
// sessions or templates, and a framework would add dependencies (and their
// updates) for routing that an object's keys do. Every handler may throw an
// HttpError; the dispatcher turns it (or any other error, as a 500) into a
// JSON answer { error }, so one bad request never stops the server.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Device } from '../torch/index.js';
import type { ApiAnswers, ApiRoute, ErrorAnswer, Timed } from './api_types.js';
import { HttpError, errorAnswer } from './http_error.js';
import { ImageSources, UPLOAD_BYTES_LIMIT } from './image_sources.js';
import { InferenceWorker } from './inference.js';
import { type LabContext, neighbours, preserved, reconstruct, sample } from './lab_routes.js';
import { queryFields, readBody } from './params.js';
import { listRuns, resolveRun } from './run_catalog.js';
import { runDetail, runImageFile } from './run_detail.js';

export interface ServeOptions {
  /** The folder whose runs are shown; nothing outside it is served. */
  runs: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Memory bound of the loaded models (bytes of weights; default 1 GiB). */
  cacheBytes?: number;
  /** Where the labs' models compute (resolved: `cpu`, `cuda:N`); default cpu. */
  device?: Device;
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * The package root: dist/src/server/ → ../../.. holds web/index.html and
 * dist/web/web/*.js (web/*.ts compiled for the browser; web/tsconfig.json
 * roots at the package so that the page can import the server's API types,
 * which compile beside it under dist/web/src/ and are never requested: the
 * page imports them with `import type`, so no module of theirs is loaded).
 */
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The page's files: index.html at /, its compiled modules at /NAME.js; null for any other path. */
function pageFile(pathname: string): { file: string; type: string } | null {
  if (pathname === '/') return { file: path.join(packageRoot, 'web', 'index.html'), type: 'text/html; charset=utf-8' };
  const module = /^\/([a-z_]+\.js)$/.exec(pathname)?.[1];
  const file = module ? path.join(packageRoot, 'dist', 'web', 'web', module) : null;
  return file && existsSync(file) ? { file, type: 'text/javascript; charset=utf-8' } : null;
}

/** A file's bytes and content type, for the routes that answer with one (`Blob` in ApiAnswers). */
interface FileAnswer {
  file: string;
  type: string;
}
type Handler<A> = (request: IncomingMessage, url: URL) => Promise<A> | A;
/** The route table: one handler per route of ApiAnswers, answering its declared shape (the compiler holds the two to each other). */
type RouteTable = { [R in ApiRoute]: Handler<ApiAnswers[R] extends Blob ? FileAnswer : ApiAnswers[R]> };

function routes(c: LabContext): RouteTable {
  const q = queryFields;
  return {
    'GET /api/runs': () => ({ root: c.root, runs: listRuns(c.root) }),
    'GET /api/run': (_r, url) => {
      const { dir, kind } = resolveRun(c.root, url.searchParams.get('run') ?? undefined);
      return runDetail(url.searchParams.get('run')!, dir, kind);
    },
    'GET /api/run/file': (_r, url) => {
      const { dir } = resolveRun(c.root, url.searchParams.get('run') ?? undefined);
      return { file: runImageFile(dir, url.searchParams.get('file') ?? undefined), type: 'image/png' };
    },
    'POST /api/upload': async (request) => c.images.upload(await readBody(request, UPLOAD_BYTES_LIMIT, 'the upload')),
    'POST /api/tokenizer/reconstruct': (request) => reconstruct(c, request),
    'GET /api/tokenizer/neighbours': (_r, url) => neighbours(c, q(url)),
    'POST /api/generator/sample': (request) => sample(c, request),
    'POST /api/generator/preserved': (request) => preserved(c, request),
  };
}

function send(response: ServerResponse, status: number, body: Buffer | string, type: string): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(body);
}

/** The route `METHOD PATH` names, if the table has it. */
const routeOf = (table: RouteTable, key: string): ApiRoute | null => (Object.hasOwn(table, key) ? key as ApiRoute : null);

async function handle(table: RouteTable, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const started = performance.now();
  try {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const page = request.method === 'GET' ? pageFile(url.pathname) : null;
    if (page) return send(response, 200, readFileSync(page.file), page.type);
    const route = routeOf(table, `${request.method} ${url.pathname}`);
    if (!route) {
      const known = Object.keys(table);
      const allowed = known.filter((k) => k.endsWith(` ${url.pathname}`)).map((k) => k.split(' ')[0]);
      if (allowed.length > 0) throw new HttpError(405, `${url.pathname} takes ${allowed.join(', ')}, not ${request.method}`);
      throw new HttpError(404, `no route ${request.method} ${url.pathname}; the API: ${known.join(', ')}`);
    }
    const answer: object = await (table[route] as Handler<object>)(request, url);
    if ('file' in answer && 'type' in answer) {
      const { file, type } = answer as FileAnswer;
      return send(response, 200, readFileSync(file), type);
    }
    send(response, 200, JSON.stringify({ ...answer, serverMs: performance.now() - started } satisfies Timed), 'application/json');
  } catch (error) {
    const { status, message } = errorAnswer(error);
    if (status >= 500) console.error(`robustok serve: ${request.method} ${request.url}: ${error instanceof Error ? error.stack : String(error)}`);
    if (!response.headersSent) send(response, status, JSON.stringify({ error: message } satisfies ErrorAnswer), 'application/json');
    else response.destroy();
    request.resume();  // drain a body left unread (e.g. refused for its size)
  }
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  let root: string;
  try {
    root = realpathSync(o.runs);
  } catch {
    throw new Error(`--runs ${o.runs} does not exist; give the folder that holds your run folders`);
  }
  if (!statSync(root).isDirectory()) throw new Error(`--runs ${o.runs} is not a folder`);
  const worker = new InferenceWorker(o.cacheBytes ?? 1 << 30, o.device ?? 'cpu');
  worker.start();
  const table = routes({ root, images: new ImageSources(), worker });
  const server = createServer((request, response) => void handle(table, request, response));
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      void worker.close();
      reject(error.code === 'EADDRINUSE' ? new Error(`port ${o.port} on ${host} is in use; pass another --port (or 0 for a free one)`) : error);
    });
    server.listen(o.port ?? 7860, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await worker.close();
    },
  };
}
