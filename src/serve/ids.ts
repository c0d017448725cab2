/** Response ids and the fingerprint of this server build. */
import { randomBytes } from 'node:crypto';

export const SYSTEM_FINGERPRINT = 'dsts-0.1.0';

export function responseId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString('hex')}`;
}

export const unixNow = () => Math.floor(Date.now() / 1000);
