// Talking to the server: JSON in, JSON out, the server's { error } message
// shown as is; and `latestOnly`, which keeps at most one request of a kind
// in flight and, when sliders move faster than the model, sends only the
// newest settings once the current answer is in. Routes and answers are the
// server's own declarations (src/server/api_types.ts), imported as types only.
import type { ApiAnswers, ApiRoute, ErrorAnswer, Timed } from '../src/server/api_types.js';

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The URL of `route` ('METHOD /path') with `query`'s fields. */
export function routeUrl(route: ApiRoute, query: Record<string, string | number> = {}): string {
  const search = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)])).toString();
  return `${route.slice(route.indexOf(' ') + 1)}${search ? `?${search}` : ''}`;
}

/** The routes that answer with JSON (the others are files, for an <img>). */
type JsonRoute = { [R in ApiRoute]: ApiAnswers[R] extends Blob ? never : R }[ApiRoute];

/** Calls `route` with its query fields and, for a POST, a body (JSON, or a Blob sent as is). */
export async function call<R extends JsonRoute>(route: R, o: { query?: Record<string, string | number>; body?: unknown } = {}): Promise<ApiAnswers[R] & Timed> {
  const method = route.slice(0, route.indexOf(' '));
  const body = o.body instanceof Blob ? o.body : JSON.stringify(o.body ?? {});
  const init: RequestInit = method === 'GET' ? {} : { method, body, headers: o.body instanceof Blob ? {} : { 'content-type': 'application/json' } };
  const response = await fetch(routeUrl(route, o.query), init);
  const json = await response.json() as ApiAnswers[R] & Timed & Partial<ErrorAnswer>;
  if (!response.ok) throw new ApiError(response.status, json.error ?? `HTTP ${response.status}`);
  return json;
}

/** Wraps `run` so that calls made while one is running collapse into one call with the latest arguments. */
export function latestOnly<A>(run: (args: A) => Promise<void>): (args: A) => void {
  let running = false;
  let queued: { args: A } | null = null;
  const next = async (args: A): Promise<void> => {
    running = true;
    try {
      await run(args);
    } finally {
      running = false;
      const q = queued;
      queued = null;
      if (q) void next(q.args);
    }
  };
  return (args) => {
    if (running) queued = { args };
    else void next(args);
  };
}
