/**
 * Incremental detokenization: turning a growing list of token ids into text deltas. A byte-level BPE
 * token may hold only part of a UTF-8 character (an emoji or CJK character is often split over two or
 * three tokens), and decoding such a prefix gives U+FFFD. So a delta is released only once the text
 * decodes cleanly; until then the tokens wait.
 *
 * The method is vLLM's: decode a short window of ids twice — up to what was already released, and up
 * to the newest token — and release the difference. The window slides forward each time text is
 * released, so each step decodes a few tokens, not the whole output.
 */

/** What the detokenizer needs of a tokenizer (the project's `Tokenizer` fits). */
export interface TokenDecoder {
  decode(ids: ArrayLike<number>, options?: { skipSpecialTokens?: boolean }): string;
  /** Ids from here on have no token (when known): the sampler never picks them. */
  readonly vocabSize?: number;
}

export interface DetokenizerOptions {
  /** Leave out special tokens' text (default true: `<｜end▁of▁sentence｜>` is no part of an answer). */
  skipSpecialTokens?: boolean;
}

const REPLACEMENT = '\uFFFD';

export class IncrementalDetokenizer {
  private readonly ids: number[] = [];
  /** Start of the decode window. */
  private prefixOffset = 0;
  /** End of the ids whose text has been released. */
  private readOffset = 0;
  private readonly skip: boolean;

  constructor(
    private readonly decoder: TokenDecoder,
    options: DetokenizerOptions = {},
  ) {
    this.skip = options.skipSpecialTokens ?? true;
  }

  /** Adds one token; returns the text it completes ('' while a character is still incomplete). */
  push(id: number): string {
    this.ids.push(id);
    return this.release(false);
  }

  /**
   * Releases whatever is still held at the end. An incomplete character (the output was cut by a
   * stop token, a stop string or the budget in the middle of it) is dropped: it is no text, and a
   * U+FFFD in an answer is worse than a character missing from a cut-off one.
   */
  flush(): string {
    return this.release(true);
  }

  private decode(from: number, to: number): string {
    return this.decoder.decode(this.ids.slice(from, to), { skipSpecialTokens: this.skip });
  }

  private release(force: boolean): string {
    if (this.readOffset === this.ids.length) return '';
    const before = this.decode(this.prefixOffset, this.readOffset);
    let after = this.decode(this.prefixOffset, this.ids.length);
    // A trailing U+FFFD means the last token(s) end inside a character: wait for the rest.
    if (!force && after.endsWith(REPLACEMENT)) return '';
    while (force && after.endsWith(REPLACEMENT)) after = after.slice(0, -1);
    // Byte-level decoding is prefix-stable, so `after` extends `before` once `before` was clean.
    const delta = after.startsWith(before) ? after.slice(before.length) : after.slice(Math.min(before.length, after.length));
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return delta;
  }
}
