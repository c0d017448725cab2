/**
 * Reading a JSON request body defensively: a size limit enforced while streaming (a lying or absent
 * Content-Length cannot get past it), strict UTF-8 (invalid bytes are a 400, not silently replaced),
 * and JSON that must be an object.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError, malformed } from './errors.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the raw body, refusing more than `limit` bytes with a 413, and a body still incomplete after
 * `timeoutMs` with a 408: a client trickling bytes must not hold a socket and a buffer forever.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs = Infinity): Promise<Buffer> {
  const tooLarge = () => new ApiError(413, `the request body is larger than ${limit} bytes`, 'request_too_large');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume(); // drain and drop
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const fail = (e: ApiError) => {
      if (failed) return;
      failed = true;
      chunks.length = 0;
      clearTimeout(timer);
      reject(e);
    };
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(
          () => fail(new ApiError(408, `the request body did not arrive within ${Math.round(timeoutMs / 1000)} s`, 'request_timeout')),
          timeoutMs,
        )
      : undefined;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) return fail(tooLarge());
      chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => fail(malformed(`could not read the request body: ${e.message}`)));
  });
}

/** Decodes and parses a JSON object body (400 for anything else). */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = strictUtf8.decode(raw);
  } catch {
    throw malformed('the request body is not valid UTF-8', 'invalid_encoding');
  }
  if (text.trim().length === 0) throw malformed('the request body is empty: send a JSON object', 'invalid_json');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw malformed(`the request body is not valid JSON: ${(e as Error).message}`, 'invalid_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed('the request body must be a JSON object', 'invalid_json');
  return value as Record<string, unknown>;
}

export async function readJsonObject(req: IncomingMessage, limit: number, timeoutMs?: number): Promise<Record<string, unknown>> {
  return parseJsonObject(await readBody(req, limit, timeoutMs));
}
