/**
 * Errors the user can fix: a missing file, a corrupt checkpoint, a config.json with a bad key. The
 * CLI prints their message alone (one line, no stack) and exits 1; anything else is a bug and keeps
 * its stack trace. Library code throws these; it never prints.
 */

/** Base of every error whose message is meant for the user as is. */
export class UserFacingError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UserFacingError';
  }
}

/**
 * A file exists but its content is wrong: corrupt safetensors, malformed JSON, a config key with the
 * wrong type. `file` names the file; `key` the tensor or config key at fault, where there is one.
 * The message reads `<file>: <key>: <detail>` so a user sees where to look without a stack.
 */
export class FormatError extends UserFacingError {
  readonly file: string;
  readonly key: string | undefined;
  readonly detail: string;

  constructor(file: string, detail: string, key?: string, options?: ErrorOptions) {
    super(key === undefined ? `${file}: ${detail}` : `${file}: '${key}': ${detail}`, options);
    this.name = 'FormatError';
    this.file = file;
    this.key = key;
    this.detail = detail;
  }
}

/** A file or folder the user named (or one a checkpoint refers to) is not there or cannot be opened. */
export class MissingFileError extends UserFacingError {
  readonly file: string;

  constructor(file: string, detail = 'no such file or directory', options?: ErrorOptions) {
    super(`${file}: ${detail}`, options);
    this.name = 'MissingFileError';
    this.file = file;
  }
}

/**
 * Wraps a filesystem call so ENOENT/EACCES/EISDIR become a MissingFileError naming the path; other
 * errors pass through untouched.
 */
export function withFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MissingFileError(file, 'no such file or directory', { cause: e });
    if (code === 'EACCES' || code === 'EPERM') throw new MissingFileError(file, 'permission denied', { cause: e });
    if (code === 'EISDIR') throw new MissingFileError(file, 'is a directory, expected a file', { cause: e });
    if (code === 'ENOTDIR') throw new MissingFileError(file, 'a parent of this path is not a directory', { cause: e });
    throw e;
  }
}
