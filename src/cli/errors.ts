/**
 * A mistake the user can fix (missing file, bad flag, malformed config). The CLI prints its message
 * alone and exits non-zero; anything else is a bug and keeps its stack trace.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
