/**
 * Temp-file-then-rename writing: the content goes to a hidden file beside the target, is flushed to
 * disk, then renamed over the target in one step. An interrupted write leaves the user's old file
 * untouched (and removes the temporary one when it can).
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { UserFacingError, withFile } from '../errors.ts';

const CHUNK = 1 << 30;

/** Writes all of `bytes` at the file's current position, looping over short writes. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, Math.min(CHUNK, bytes.length - done));
}

/** Calls `fill(fd)` on a temporary file, then atomically moves it to `path`. */
export function writeAtomic(path: string, fill: (fd: number) => void): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = withFile(dirname(path), () => openSync(tmp, 'wx'));
  let open = true;
  try {
    fill(fd);
    fsyncSync(fd);
    open = false;
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    if (open) closeSync(fd);
    rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') throw new UserFacingError(`${path}: could not write (${code}: ${(e as Error).message})`, { cause: e });
    throw e;
  }
}

/** Writes `text` as UTF-8 to `path` atomically. */
export function writeFileAtomic(path: string, text: string): void {
  writeAtomic(path, (fd) => writeAll(fd, Buffer.from(text, 'utf8')));
}
