/**
 * Packing a token stream into fixed-length training sequences of T + 1 tokens (T inputs, the same
 * tokens shifted by one as targets). Documents run into each other across sequence boundaries,
 * separated by EOS, so no position is padding. Consecutive sequences overlap by one token (the last
 * target of one is the first input of the next), so every token is predicted exactly once.
 */
export class SequencePacker {
  private tokens: number[];
  private start = 0;

  /** `length` = T + 1; `carry` = tokens left over from before (a resumed run's). */
  constructor(
    readonly length: number,
    carry: ArrayLike<number> = [],
  ) {
    if (length < 2) throw new Error(`a training sequence needs at least 2 tokens, got ${length}`);
    this.tokens = Array.from(carry);
  }

  /** The buffer new tokens are appended to (pass it to TokenStream.next). */
  get sink(): number[] {
    return this.tokens;
  }

  /** Number of tokens waiting. */
  get pending(): number {
    return this.tokens.length - this.start;
  }

  /** The next full sequence, or null until enough tokens have been pushed. */
  pop(): Int32Array | null {
    if (this.pending < this.length) return null;
    const seq = Int32Array.from(this.tokens.slice(this.start, this.start + this.length));
    this.start += this.length - 1;
    // Drop consumed tokens now and then, not on every pop (splicing the front is O(n)).
    if (this.start > 1 << 16 || this.start * 2 > this.tokens.length) {
      this.tokens = this.tokens.slice(this.start);
      this.start = 0;
    }
    return seq;
  }

  /** The tokens not yet in a sequence (what a checkpoint stores). */
  carry(): Int32Array {
    return Int32Array.from(this.tokens.slice(this.start));
  }
}
