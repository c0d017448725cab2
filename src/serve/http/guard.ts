/**
 * Who may talk to the server, checked before any route runs. A model server on localhost is reachable
 * by every web page the user visits, so the defaults are closed:
 * - **Host** must name the address the server is bound to (or localhost, or an IP literal when bound to
 *   every interface): a DNS-rebinding page reaches 127.0.0.1 under its own name, and is refused;
 * - **Origin**, when a browser sends one, must be the server's own (the web chat) or in the CORS
 *   allow-list; CORS headers are sent only to those listed;
 * - request bodies must be `application/json`, which a page cannot send cross-origin without a CORS
 *   preflight (text/plain and form posts are "simple" requests that skip it);
 * - the API key is compared in constant time, `Bearer` in any case, as RFC 7235 defines schemes.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { ApiError } from './errors.ts';

export interface GuardOptions {
  /** The interface the server listens on. */
  host: string;
  /** Origins allowed to call the API from a browser ('*': any). Empty: same-origin only. */
  corsOrigins: readonly string[];
  /** Extra Host names accepted (a reverse proxy's name); '*' turns the Host check off. */
  allowedHosts: readonly string[];
  apiKey?: string;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** Whether `host` is a loopback address or name. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Whether binding `host` listens on every interface. */
const isWildcard = (host: string) => ['0.0.0.0', '::', '[::]', ''].includes(host);

/** The hostname of a Host header (port and IPv6 brackets removed), lower-cased. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') < 0 ? undefined : h.indexOf(']'));
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/** Whether a request's Host header names this server (see the module comment). */
export function hostAllowed(header: string | undefined, o: Pick<GuardOptions, 'host' | 'allowedHosts'>): boolean {
  if (header === undefined) return true; // HTTP/1.0 clients; a browser always sends Host
  if (o.allowedHosts.includes('*')) return true;
  const name = hostName(header);
  const bound = hostName(o.host);
  if (name === bound || LOOPBACK_NAMES.includes(name) || o.allowedHosts.some((a) => a.toLowerCase() === name)) return true;
  // Rebinding needs a DNS name: a bare IP address cannot be re-pointed, so on every interface any is fine.
  return isWildcard(o.host) && isIP(name) !== 0;
}

/** The CORS origin to echo for a request's Origin, or null when it is not allowed cross-origin. */
function corsOrigin(origin: string, o: GuardOptions): string | null {
  if (o.corsOrigins.includes('*')) return '*';
  return o.corsOrigins.includes(origin) ? origin : null;
}

/**
 * Checks Host and Origin and sets the CORS headers. Returns true when the request was a CORS
 * preflight, already answered.
 */
export function checkRequestSource(req: IncomingMessage, res: ServerResponse, o: GuardOptions): boolean {
  if (!hostAllowed(req.headers.host, o)) {
    throw new ApiError(
      403,
      `the Host '${req.headers.host}' is not this server's address (start it with --allowed-host to accept it)`,
      'host_not_allowed',
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null' && sameOrigin(origin, req.headers.host)) {
    return false;
  }
  if (origin !== undefined) {
    const allowed = corsOrigin(origin, o);
    if (allowed === null)
      throw new ApiError(
        403,
        `requests from the origin '${origin}' are not allowed (start the server with --cors-origin to allow it)`,
        'origin_not_allowed',
      );
    res.setHeader('access-control-allow-origin', allowed);
    res.setHeader('vary', 'Origin');
    res.setHeader('access-control-allow-headers', 'authorization, content-type');
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader('access-control-max-age', '600');
  }
  if (req.method === 'OPTIONS') {
    res.writeHead(204);
    res.end();
    return true;
  }
  return false;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const u = new URL(origin);
    return u.protocol === 'http:' && u.host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** Refuses a body that is not declared as JSON (415). */
export function requireJson(req: IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new ApiError(
      415,
      `the request body must be JSON, sent with 'Content-Type: application/json'${type ? ` (got '${type}')` : ''}`,
      'unsupported_media_type',
    );
  }
}

/** Whether the Authorization header carries the key (scheme case-insensitive, constant-time compare). */
export function bearerMatches(header: string | undefined, key: string): boolean {
  const m = /^bearer[ \t]+(.+)$/i.exec(header?.trim() ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!.trim());
  const want = Buffer.from(key);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** A line warning that the model is open to the network, or null when it is not. */
export function exposureWarning(host: string, apiKey: string | undefined): string | null {
  if (isLoopback(host) || apiKey !== undefined) return null;
  return `warning: listening on ${host} without --api-key: anyone who can reach this machine can use the model`;
}
