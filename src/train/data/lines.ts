/**
 * Reading a file line by line from any byte offset, a chunk at a time, so a corpus far larger than
 * memory streams through with a bounded buffer. Every line comes with the byte offset just past it:
 * that offset is what a checkpoint records, and reopening there continues with the next line.
 * Splitting at '\n' bytes is safe for UTF-8 (0x0A never occurs inside a multi-byte character).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { TrainError } from '../errors.ts';

export interface Line {
  /** The line without its '\n' (and without a '\r' before it). */
  text: string;
  /** Byte offset just past this line (past its '\n' when it has one). */
  end: number;
  /**
   * False for a piece of an over-long line cut at the buffer size (only when `splitLongLines`):
   * the next Line continues it without a line break.
   */
  complete: boolean;
}

export interface LineReaderOptions {
  /** Bytes read per system call; also the longest piece of a line when splitting long lines. */
  chunkBytes?: number;
  /** Cut lines longer than the buffer into pieces (plain text) instead of growing the buffer (JSONL). */
  splitLongLines?: boolean;
}

export class LineReader {
  private readonly fd: number;
  private buf: Buffer;
  /** File offset of buf[0]. */
  private bufStart: number;
  private lo = 0;
  private hi = 0;
  private eof = false;
  private readonly splitLongLines: boolean;

  constructor(
    readonly path: string,
    start = 0,
    options: LineReaderOptions = {},
  ) {
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      throw new TrainError(`${path}: cannot open corpus file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    this.buf = Buffer.allocUnsafe(options.chunkBytes ?? 1 << 20);
    this.bufStart = start;
    this.splitLongLines = options.splitLongLines ?? false;
  }

  /** The next line, or null at the end of the file. */
  next(): Line | null {
    for (;;) {
      const nl = this.buf.indexOf(10, this.lo);
      if (nl >= 0 && nl < this.hi) {
        const stop = nl > this.lo && this.buf[nl - 1] === 13 ? nl - 1 : nl;
        const text = this.buf.toString('utf8', this.lo, stop);
        this.lo = nl + 1;
        return { text, end: this.bufStart + this.lo, complete: true };
      }
      if (this.eof) {
        if (this.lo >= this.hi) return null;
        const text = this.buf.toString('utf8', this.lo, this.hi);
        this.lo = this.hi;
        return { text, end: this.bufStart + this.hi, complete: true };
      }
      if (this.lo === 0 && this.hi === this.buf.length) {
        if (this.splitLongLines) return this.cutLongLine();
        const bigger = Buffer.allocUnsafe(this.buf.length * 2);
        this.buf.copy(bigger, 0, 0, this.hi);
        this.buf = bigger;
      }
      this.fill();
    }
  }

  /** Emits the buffered part of an over-long line, ending on a UTF-8 character boundary. */
  private cutLongLine(): Line {
    let cut = this.hi;
    // Back up over continuation bytes (10xxxxxx) to the start of the last character.
    while (cut > 0 && (this.buf[cut - 1]! & 0xc0) === 0x80) cut--;
    if (cut > 0 && this.buf[cut - 1]! >= 0xc0) cut--;
    if (cut === 0) cut = this.hi;
    const text = this.buf.toString('utf8', 0, cut);
    this.lo = cut;
    return { text, end: this.bufStart + cut, complete: false };
  }

  /** Moves the unread bytes to the front and reads more after them. */
  private fill(): void {
    if (this.lo > 0) {
      this.buf.copy(this.buf, 0, this.lo, this.hi);
      this.bufStart += this.lo;
      this.hi -= this.lo;
      this.lo = 0;
    }
    const n = readSync(this.fd, this.buf, this.hi, this.buf.length - this.hi, this.bufStart + this.hi);
    if (n === 0) this.eof = true;
    this.hi += n;
  }

  close(): void {
    closeSync(this.fd);
  }
}
