/**
 * SFT batches. Sequences are taken in a seeded order, epoch after epoch, and either packed — several
 * to a row of `seqLen` tokens, each attending only to itself (a block of its own in the attention
 * layout, so packing changes the arithmetic, never what an example sees) — or one to a row, padded
 * to the longest in the micro-batch. A sequence longer than `seqLen` is cut to it. Targets are the
 * next token where that token is trained, −100 (ignored) elsewhere: the last token of a sequence
 * predicts nothing, padding predicts nothing.
 *
 * The position in the data is (epoch, cursor): rows are built from there on demand, so it is all a
 * resumed run needs to draw the very batches an uninterrupted one would.
 */
import { Tensor, segmentBlocks, type AttentionLayout } from '../../tensor/index.ts';
import { permutation } from '../data/jsonl.ts';
import type { SftSequence } from './render.ts';

export const IGNORE = -100;

export interface SftBatch {
  /** Input ids [rows, L]. */
  ids: Tensor;
  /** Targets [rows·L], IGNORE where nothing is trained. */
  targets: Tensor;
  layout: AttentionLayout;
  /** Real (non-padding) tokens in the batch. */
  tokens: number;
  /** Targets that count in the loss. */
  trained: number;
}

export interface StreamPosition {
  epoch: number;
  cursor: number;
}

export interface PackOptions {
  seqLen: number;
  packing: boolean;
  seed: number;
  padId: number;
}

export class SftStream {
  private order: Int32Array;
  epoch: number;
  cursor: number;

  constructor(
    private readonly seqs: readonly SftSequence[],
    private readonly opts: PackOptions,
    at: StreamPosition = { epoch: 0, cursor: 0 },
  ) {
    this.epoch = at.epoch;
    this.cursor = at.cursor;
    this.order = permutation(seqs.length, opts.seed + this.epoch);
  }

  position(): StreamPosition {
    return { epoch: this.epoch, cursor: this.cursor };
  }

  /** The next sequence's length (cut to seqLen), without taking it. */
  private peekLength(): number {
    if (this.cursor >= this.order.length) this.nextEpoch();
    return Math.min(this.seqs[this.order[this.cursor]!]!.ids.length, this.opts.seqLen);
  }

  private take(): SftSequence {
    if (this.cursor >= this.order.length) this.nextEpoch();
    const s = this.seqs[this.order[this.cursor++]!]!;
    const n = Math.min(s.ids.length, this.opts.seqLen);
    return n === s.ids.length ? s : { ids: s.ids.subarray(0, n), trained: s.trained.subarray(0, n) };
  }

  private nextEpoch(): void {
    this.epoch++;
    this.cursor = 0;
    this.order = permutation(this.seqs.length, this.opts.seed + this.epoch);
  }

  /** The sequences of the next row: one, or as many as fit in seqLen when packing. */
  private nextRow(): SftSequence[] {
    const row = [this.take()];
    let used = row[0]!.ids.length;
    while (this.opts.packing && used + this.peekLength() <= this.opts.seqLen) {
      const s = this.take();
      row.push(s);
      used += s.ids.length;
    }
    return row;
  }

  /** The next micro-batch of `rows` rows. */
  next(rows: number): SftBatch {
    const content = Array.from({ length: rows }, () => this.nextRow());
    const L = this.opts.packing ? this.opts.seqLen : Math.max(...content.map((r) => r[0]!.ids.length));
    const ids = new Int32Array(rows * L).fill(this.opts.padId);
    const targets = new Int32Array(rows * L).fill(IGNORE);
    const blocks = [];
    let tokens = 0;
    let trained = 0;
    for (let r = 0; r < rows; r++) {
      let at = r * L;
      const lengths: number[] = [];
      for (const s of content[r]!) {
        const n = s.ids.length;
        ids.set(s.ids, at);
        for (let j = 0; j + 1 < n; j++) {
          if (s.trained[j + 1]) {
            targets[at + j] = s.ids[j + 1]!;
            trained++;
          }
        }
        at += n;
        tokens += n;
        lengths.push(n);
      }
      // Padding is a block of its own: it attends to nothing real, and nothing attends to it.
      lengths.push(r * L + L - at);
      blocks.push(segmentBlocks(lengths));
    }
    return {
      ids: new Tensor(ids, [rows, L], 'i32'),
      targets: new Tensor(targets, [rows * L], 'i32'),
      layout: { length: L, rows: blocks },
      tokens,
      trained,
    };
  }
}
