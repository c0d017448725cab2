/**
 * Errors the tokenizer layer throws for mistakes a user can fix: a missing file, a malformed or
 * unsupported tokenizer.json, an unknown token id. Each carries a one-line message; callers (the CLI)
 * can turn them into user-facing errors without a stack trace.
 */
export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

/** Throws a TokenizerError unless `cond` holds: for validating parsed JSON. */
export function check(cond: unknown, message: string): asserts cond {
  if (!cond) throw new TokenizerError(message);
}
