/**
 * Binding the server's socket, with the operating system's refusals (port taken, address not on this
 * machine, no permission) turned into one sentence the user can act on rather than a stack trace.
 */
import type { Server } from 'node:http';
import { UserFacingError } from '../../io/errors.ts';

/** The server could not listen where it was asked to. */
export class ListenError extends UserFacingError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ListenError';
  }
}

/** Checks a port number before trying it (Node's own RangeError for 99999 is a stack trace). */
export function checkPort(port: number): void {
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new ListenError(`port ${port} is out of range: use 0–65535 (0 picks a free one)`);
}

function explain(e: NodeJS.ErrnoException, host: string, port: number): string {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the port is already in use (is another server running? pick another with --port)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: ${host} is not an address of this machine (see --host)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return `cannot listen on ${where}: the host name '${host}' does not resolve (see --host)`;
    case 'EACCES':
    case 'EPERM':
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges; pick another with --port)`;
    case 'EAFNOSUPPORT':
      return `cannot listen on ${where}: this machine does not support that address family (see --host)`;
    default:
      return `cannot listen on ${where}: ${e.message}`;
  }
}

/** Listens on host:port; a refusal rejects with a ListenError. */
export function listen(server: Server, host: string, port: number): Promise<void> {
  checkPort(port);
  return new Promise<void>((resolve, reject) => {
    const fail = (e: NodeJS.ErrnoException) => reject(new ListenError(explain(e, host, port), { cause: e }));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}
