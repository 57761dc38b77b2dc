// Errors that become HTTP answers. Anything a client sent wrong is thrown as
// an HttpError with a 4xx status and a message that names the field, the
// value and what is allowed; everything else is the server's fault (500).
// Either way the request ends with a JSON body { error } and the server
// keeps serving.

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** 400: a field is missing, malformed or out of range. */
export const badRequest = (message: string): HttpError => new HttpError(400, message);

/** The status and message an error answers with: its own for an HttpError, 500 for anything else. */
export function errorAnswer(error: unknown): { status: number; message: string } {
  if (error instanceof HttpError) return { status: error.status, message: error.message };
  return { status: 500, message: `internal error: ${error instanceof Error ? error.message : String(error)}` };
}
