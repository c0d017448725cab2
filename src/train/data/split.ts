/**
 * The deterministic train/validation split: a document is held out when the hash of its file's
 * name and its number in the file falls below `valFraction`. The same corpus splits the same way on
 * every run and every machine, regardless of shuffling, so evaluation never sees training text.
 */
import { hashString, mix32 } from './hash.ts';

export type Split = 'train' | 'validation';

/** Hash-based assignment of documents to splits. */
export class DocumentSplit {
  private readonly threshold: number;

  /** `valFraction` in [0, 1): the share of documents held out. */
  constructor(readonly valFraction: number) {
    this.threshold = valFraction * 4294967296;
  }

  /** Whether document `doc` of the file keyed `fileKey` is held out. */
  isValidation(fileKey: string, doc: number, fileHash = hashString(fileKey)): boolean {
    if (this.valFraction <= 0) return false;
    return mix32(fileHash, doc) < this.threshold;
  }
}
