/**
 * The training data loader: corpus → tokens (TokenStream) → fixed-length sequences (SequencePacker)
 * → a bounded shuffle (ShuffleBuffer) → [B, T+1] int32 batches. The stream loops over epochs, so it
 * never runs dry. `state()` captures everything needed to continue with exactly the same batches —
 * the stream position, the packer's leftover tokens, the buffered sequences and the draw count —
 * and a loader built from that state picks up where the saved one stopped.
 */
import { Tensor } from '../../tensor/index.ts';
import { TrainError } from '../errors.ts';
import type { DocumentOptions } from './documents.ts';
import type { CorpusFile } from './files.ts';
import { mix32 } from './hash.ts';
import { SequencePacker } from './packer.ts';
import { ShuffleBuffer } from './shuffle.ts';
import { DocumentSplit, type Split } from './split.ts';
import { TokenStream, type CorpusEncoder, type StreamPosition } from './token-stream.ts';

export interface LoaderOptions {
  files: readonly CorpusFile[];
  documents: DocumentOptions;
  encoder: CorpusEncoder;
  /** Tokens per sequence fed to the model (sequences hold seqLen + 1). */
  seqLen: number;
  /** Hold out this share of documents (0: use every document). */
  valFraction: number;
  shuffleBuffer: number;
  seed: number;
}

/** A loader's position; `carry` and `buffer` are the bulky parts a checkpoint stores as tensors. */
export interface LoaderState {
  stream: StreamPosition;
  draws: number;
  carry: Int32Array;
  buffer: Int32Array[];
}

export class TrainLoader {
  private readonly stream: TokenStream;
  private readonly packer: SequencePacker;
  private readonly shuffle: ShuffleBuffer;
  /** Tokens per sequence fed to the model. */
  readonly seqLen: number;

  constructor(o: LoaderOptions, state?: LoaderState) {
    this.seqLen = o.seqLen;
    const split = new DocumentSplit(o.valFraction);
    this.stream = new TokenStream(
      {
        files: o.files,
        documents: o.documents,
        encoder: o.encoder,
        split,
        take: o.valFraction > 0 ? 'train' : 'all',
        loop: true,
        seed: o.seed,
        shuffleFiles: true,
        what: 'training data',
      },
      state?.stream,
    );
    this.packer = new SequencePacker(o.seqLen + 1, state?.carry);
    for (const s of state?.buffer ?? []) {
      if (s.length !== o.seqLen + 1)
        throw new TrainError(`the saved data loader holds sequences of ${s.length - 1} tokens, the run uses seqLen ${o.seqLen}`);
    }
    this.shuffle = new ShuffleBuffer(o.shuffleBuffer, mix32(o.seed, 0x5eed), state?.buffer, state?.draws);
  }

  private pull = (): Int32Array | null => {
    for (;;) {
      const s = this.packer.pop();
      if (s) return s;
      this.stream.next(this.packer.sink);
    }
  };

  /** The next sequence of seqLen + 1 tokens. */
  nextSequence(): Int32Array {
    return this.shuffle.next(this.pull)!;
  }

  /** The next [batch, seqLen + 1] batch. */
  nextBatch(batch: number): Tensor {
    const L = this.seqLen + 1;
    const data = new Int32Array(batch * L);
    for (let b = 0; b < batch; b++) data.set(this.nextSequence(), b * L);
    return new Tensor(data, [batch, L], 'i32');
  }

  state(): LoaderState {
    const { items, draws } = this.shuffle.snapshot();
    return { stream: this.stream.position(), draws, carry: this.packer.carry(), buffer: items };
  }

  close(): void {
    this.stream.close();
  }
}

/**
 * The held-out evaluation set: the first `count` sequences of the validation documents, in corpus
 * order (no shuffling: evaluation must measure the same text every time). From the hash split of
 * the training files, or from separate validation files (`take: 'all'`).
 */
export function evalSequences(o: Omit<LoaderOptions, 'shuffleBuffer'> & { take: Split | 'all' }, count: number): Int32Array[] {
  const stream = new TokenStream({
    files: o.files,
    documents: o.documents,
    encoder: o.encoder,
    split: new DocumentSplit(o.valFraction),
    take: o.take,
    loop: false,
    seed: o.seed,
    shuffleFiles: false,
    what: 'validation data',
  });
  const packer = new SequencePacker(o.seqLen + 1);
  const out: Int32Array[] = [];
  try {
    while (out.length < count) {
      const s = packer.pop();
      if (s) out.push(s);
      else if (!stream.next(packer.sink)) break;
    }
  } finally {
    stream.close();
  }
  return out;
}
