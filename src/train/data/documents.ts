/**
 * The documents of one corpus file, as a stream of text pieces. A document is a JSONL record's text
 * field, or for plain text (by `textDocuments`) the whole file, a paragraph (blank-line separated) or
 * a line. Long documents come in several pieces, cut at line breaks, so one huge file never has to
 * fit in memory; `docEnd` marks a document's last piece (where the EOS separator goes).
 *
 * The reader's position (`FileCursor`) after any piece is all a checkpoint needs to resume there.
 */
import type { TextDocuments } from '../config/run-config.ts';
import { TrainError } from '../errors.ts';
import type { CorpusFile } from './files.ts';
import { LineReader } from './lines.ts';

/** By default a document piece is cut once its text reaches this many UTF-16 units. */
const PIECE_CHARS = 1 << 18;

export interface FileCursor {
  /** Byte offset of the next unread line. */
  offset: number;
  /** 1-based number of the next line (for error messages). */
  line: number;
  /** 0-based number of the current (or next) document in this file. */
  doc: number;
  /** Whether the reader stopped inside a document (its next piece continues it). */
  inDoc: boolean;
  /** Whether it stopped inside an over-long line (the next text continues that line). */
  midLine: boolean;
}

export const START: FileCursor = { offset: 0, line: 1, doc: 0, inDoc: false, midLine: false };

export interface Piece {
  text: string;
  /** Number of the document this piece belongs to, within its file. */
  doc: number;
  /** Whether this is the document's last piece. */
  docEnd: boolean;
  /** Where the reader stands after this piece. */
  cursor: FileCursor;
}

export interface DocumentOptions {
  textDocuments: TextDocuments;
  jsonlField: string;
  /** Bytes read per system call (default 1 MiB); also the longest piece of an over-long text line. */
  chunkBytes?: number;
  /** Cut a long document into pieces of about this many characters (default 256 Ki). */
  pieceChars?: number;
}

export class DocumentReader {
  private readonly lines: LineReader;
  private cursor: FileCursor;
  private parts: string[] = [];
  private chars = 0;
  /** Whether the last accumulated line ended with a line break (the next line starts a new one). */
  private lastComplete = true;
  private readonly pieceChars: number;

  constructor(
    readonly file: CorpusFile,
    private readonly opts: DocumentOptions,
    from: FileCursor = START,
  ) {
    this.cursor = { ...from };
    this.lastComplete = !from.midLine;
    this.lines = new LineReader(file.path, from.offset, { splitLongLines: file.kind === 'text', chunkBytes: opts.chunkBytes });
    this.pieceChars = opts.pieceChars ?? PIECE_CHARS;
  }

  /** The next piece, or null when the file is done. */
  next(): Piece | null {
    return this.file.kind === 'jsonl' ? this.nextJsonl() : this.nextText();
  }

  close(): void {
    this.lines.close();
  }

  private advance(end: number, complete: boolean): void {
    this.cursor.offset = end;
    if (complete) this.cursor.line++;
  }

  private emit(docEnd: boolean): Piece {
    let text = this.parts.join('');
    if (!docEnd && this.lastComplete) text += '\n'; // the break between this piece and the next
    this.parts = [];
    this.chars = 0;
    const doc = this.cursor.doc;
    this.cursor.midLine = !this.lastComplete;
    if (docEnd) {
      this.cursor.doc++;
      this.cursor.inDoc = false;
    } else {
      this.cursor.inDoc = true;
    }
    return { text, doc, docEnd, cursor: { ...this.cursor } };
  }

  private add(text: string, complete: boolean): void {
    if (this.chars > 0 && this.lastComplete) this.parts.push('\n');
    this.parts.push(text);
    this.chars += text.length + 1;
    this.lastComplete = complete;
  }

  private nextText(): Piece | null {
    const mode = this.opts.textDocuments;
    for (;;) {
      const line = this.lines.next();
      if (!line) {
        if (this.chars > 0 || this.cursor.inDoc) return this.emit(true);
        return null;
      }
      this.advance(line.end, line.complete);
      const blank = line.complete && this.lastComplete && line.text.trim() === '';
      if (mode === 'paragraph' && blank) {
        if (this.chars > 0 || this.cursor.inDoc) return this.emit(true);
        continue;
      }
      if (mode === 'line') {
        if (blank && !this.cursor.inDoc) continue;
        this.add(line.text, line.complete);
        if (line.complete) return this.emit(true);
        return this.emit(false);
      }
      this.add(line.text, line.complete);
      if (this.chars >= this.pieceChars) return this.emit(false);
    }
  }

  private nextJsonl(): Piece | null {
    for (;;) {
      const lineNo = this.cursor.line;
      const line = this.lines.next();
      if (!line) return null;
      this.advance(line.end, true);
      if (line.text.trim() === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(line.text);
      } catch (e) {
        throw new TrainError(`${this.file.path}:${lineNo}: not valid JSON (${(e as Error).message})`);
      }
      const text = typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[this.opts.jsonlField] : undefined;
      if (typeof text !== 'string') {
        throw new TrainError(`${this.file.path}:${lineNo}: expected an object with a string '${this.opts.jsonlField}' field`);
      }
      this.parts = [text];
      this.lastComplete = true;
      return this.emit(true);
    }
  }
}
