// Reading a request's fields: a JSON body (with a size limit) and typed
// values out of it or out of the query string. Every failure is a 400 that
// names the field, the allowed range and what was sent, so a page or a
// script sees at once which slider or key is wrong.
import type { IncomingMessage } from 'node:http';
import { HttpError, badRequest } from './http_error.js';

/** JSON bodies are small (settings, never images): 1 MB is far more than any needs. */
export const JSON_BODY_LIMIT = 1 << 20;

/** The request body, refused with 413 as soon as it passes `limit` bytes. */
export async function readBody(request: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(what, `${megabytes(declared)}`, limit);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > limit) throw tooLarge(what, `over ${megabytes(limit)}`, limit);
    parts.push(part);
  }
  return Buffer.concat(parts);
}

const megabytes = (bytes: number): string => `${(bytes / (1 << 20)).toFixed(1)} MB`;
const tooLarge = (what: string, size: string, limit: number): HttpError =>
  new HttpError(413, `${what} is ${size}; the limit is ${megabytes(limit)}`);

/** The body as a JSON object; 400 for anything else (not JSON, an array, a number). */
export async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(request, JSON_BODY_LIMIT, 'the request body')).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest(`the request body is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(`the request body must be a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

export interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
  /** Used when the field is absent; without one the field is required. */
  default?: number;
  /** What the field is, for the message (e.g. 'α, the share of tokens redrawn'). */
  doc: string;
}

/**
 * A number field from a JSON body or a query string (where it arrives as
 * text), checked against its range.
 */
export function numberField(fields: Record<string, unknown>, key: string, rule: NumberRule): number {
  const raw = fields[key];
  if (raw === undefined || raw === null || raw === '') {
    if (rule.default !== undefined) return rule.default;
    throw badRequest(`'${key}' (${rule.doc}) is missing`);
  }
  const value = typeof raw === 'string' ? Number(raw) : raw;
  const kind = rule.integer ? 'an integer' : 'a number';
  if (typeof value !== 'number' || !Number.isFinite(value) || (rule.integer && !Number.isInteger(value)) || value < rule.min || value > rule.max) {
    throw badRequest(`'${key}' (${rule.doc}) must be ${kind} in [${rule.min}, ${rule.max}], got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The query string of a request URL as a plain object (the last value of a repeated key wins). */
export const queryFields = (url: URL): Record<string, unknown> => Object.fromEntries(url.searchParams.entries());
