/**
 * Corpus files → documents → token ids, one piece at a time, epoch after epoch. Each document of
 * the wanted split is tokenised and followed by the EOS separator; documents of the other split are
 * skipped unread by the tokenizer. The file order of each epoch is a seeded permutation, so
 * multi-file corpora are not always seen in the same order, yet every run with the same seed is.
 *
 * `position()` after any `next()` is exact: reopening a stream there yields the same tokens next.
 */
import { TrainError } from '../errors.ts';
import { DocumentReader, START, type DocumentOptions, type FileCursor } from './documents.ts';
import type { CorpusFile } from './files.ts';
import { hashString, mix32, permutation } from './hash.ts';
import type { DocumentSplit, Split } from './split.ts';

export interface StreamPosition {
  epoch: number;
  /** Index into the epoch's file order. */
  fileIndex: number;
  cursor: FileCursor;
}

/** What the stream needs from a tokenizer. */
export interface CorpusEncoder {
  /** Appends the ids of `text` (no special tokens added) to `out`. */
  encodeInto(text: string, out: number[]): void;
  /** The document separator appended after each document. */
  readonly eosId: number;
}

export interface TokenStreamOptions {
  files: readonly CorpusFile[];
  documents: DocumentOptions;
  encoder: CorpusEncoder;
  /** Which documents to keep: one side of the hash split, or every document ('all'). */
  split: DocumentSplit;
  take: Split | 'all';
  /** Start again (next epoch) at the end instead of stopping. */
  loop: boolean;
  /** Seed of the per-epoch file order (ignored when `shuffleFiles` is false). */
  seed: number;
  shuffleFiles: boolean;
  /** Names the stream in errors ("training data"). */
  what: string;
}

export class TokenStream {
  private pos: StreamPosition;
  private order: number[];
  private reader: DocumentReader | null = null;
  private readonly fileHashes: number[];
  /** Tokens produced in the current epoch (a looping stream that produces none would spin forever). */
  private producedThisEpoch = false;

  constructor(
    private readonly o: TokenStreamOptions,
    from?: StreamPosition,
  ) {
    if (o.files.length === 0) throw new TrainError(`${o.what}: no corpus files`);
    this.pos = from ? { ...from, cursor: { ...from.cursor } } : { epoch: 0, fileIndex: 0, cursor: { ...START } };
    this.order = this.orderOf(this.pos.epoch);
    this.fileHashes = o.files.map((f) => hashString(f.key));
    // A resumed position inside an epoch counts as productive (it was, to get there).
    this.producedThisEpoch = this.pos.fileIndex > 0 || this.pos.cursor.offset > 0;
  }

  private orderOf(epoch: number): number[] {
    const n = this.o.files.length;
    return this.o.shuffleFiles ? permutation(n, mix32(this.o.seed, epoch)) : Array.from({ length: n }, (_, i) => i);
  }

  /** Where the stream stands: pass to the constructor to continue from here. */
  position(): StreamPosition {
    return { ...this.pos, cursor: { ...this.pos.cursor } };
  }

  /**
   * Appends the tokens of the next kept piece (plus EOS when it ends a document) to `out`. Returns
   * false when a non-looping stream is exhausted.
   */
  next(out: number[]): boolean {
    for (;;) {
      if (this.pos.fileIndex >= this.o.files.length) {
        if (!this.o.loop) return false;
        if (!this.producedThisEpoch) {
          throw new TrainError(`${this.o.what}: the corpus has no ${this.o.take === 'all' ? '' : this.o.take + ' '}documents to train on`);
        }
        this.pos = { epoch: this.pos.epoch + 1, fileIndex: 0, cursor: { ...START } };
        this.order = this.orderOf(this.pos.epoch);
        this.producedThisEpoch = false;
      }
      const fileNo = this.order[this.pos.fileIndex]!;
      if (!this.reader) this.reader = new DocumentReader(this.o.files[fileNo]!, this.o.documents, this.pos.cursor);
      const piece = this.reader.next();
      if (!piece) {
        this.reader.close();
        this.reader = null;
        this.pos = { epoch: this.pos.epoch, fileIndex: this.pos.fileIndex + 1, cursor: { ...START } };
        continue;
      }
      this.pos.cursor = piece.cursor;
      if (this.o.take !== 'all') {
        const held = this.o.split.isValidation(this.o.files[fileNo]!.key, piece.doc, this.fileHashes[fileNo]);
        if (held !== (this.o.take === 'validation')) continue;
      }
      const before = out.length;
      if (piece.text.length > 0) this.o.encoder.encodeInto(piece.text, out);
      if (piece.docEnd) out.push(this.o.encoder.eosId);
      if (out.length > before) {
        this.producedThisEpoch = true;
        return true;
      }
    }
  }

  close(): void {
    this.reader?.close();
    this.reader = null;
  }
}
