// Talking to the server: JSON in, JSON out, the server's { error } message
// shown as is; and `latestOnly`, which keeps at most one request of a kind
// in flight and, when sliders move faster than the model, sends only the
// newest settings once the current answer is in.

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function call<T>(route: string, body?: unknown): Promise<T> {
  const init: RequestInit = body === undefined ? {} : body instanceof Blob ? { method: 'POST', body } : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
  const response = await fetch(route, init);
  const json = await response.json() as T & { error?: string };
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

export interface RunEntry {
  id: string;
  kind: 'tokenizer' | 'post-trained tokenizer' | 'generator' | 'reproduce';
  status: 'training' | 'done' | 'stopped';
  updated: number;
}

export interface RunDetail {
  id: string;
  kind: RunEntry['kind'];
  config: Record<string, unknown> | null;
  metrics: Record<string, unknown>[];
  results: Record<string, unknown>;
  images: string[];
}
