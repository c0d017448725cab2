/**
 * The training documents' text, in corpus order, up to a character budget: what a tokenizer is
 * trained on when a run asks for a new vocabulary. Held-out documents are skipped, so the
 * validation text stays unseen by every part of the pipeline.
 */
import { DocumentReader, type DocumentOptions } from './documents.ts';
import type { CorpusFile } from './files.ts';
import { hashString } from './hash.ts';
import { DocumentSplit } from './split.ts';

export function* corpusTexts(
  files: readonly CorpusFile[],
  documents: DocumentOptions,
  valFraction: number,
  maxChars: number,
): Generator<string> {
  const split = new DocumentSplit(valFraction);
  let chars = 0;
  for (const file of files) {
    const reader = new DocumentReader(file, documents);
    const fileHash = hashString(file.key);
    try {
      for (let piece = reader.next(); piece; piece = reader.next()) {
        if (split.isValidation(file.key, piece.doc, fileHash)) continue;
        const text = piece.text.length > maxChars - chars ? piece.text.slice(0, maxChars - chars) : piece.text;
        if (text.length > 0) yield text;
        chars += text.length;
        if (chars >= maxChars) return;
      }
    } finally {
      reader.close();
    }
  }
}
