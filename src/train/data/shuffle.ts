/**
 * A bounded shuffle buffer: holds up to `capacity` sequences; each draw returns a uniformly chosen
 * one and refills its slot from the source. Data far apart in the corpus get mixed without ever
 * holding more than `capacity` sequences. Draw n uses the stateless hash draw (seed, n), so the
 * buffer's contents and the draw count are its whole state.
 */
import { drawInt } from './hash.ts';

export class ShuffleBuffer {
  private readonly items: Int32Array[];
  private draws: number;

  constructor(
    readonly capacity: number,
    readonly seed: number,
    items: Int32Array[] = [],
    draws = 0,
  ) {
    this.items = [...items];
    this.draws = draws;
  }

  /**
   * The next sequence: fills the buffer from `source` first, then picks one. Returns null only
   * when the buffer is empty and the source is exhausted.
   */
  next(source: () => Int32Array | null): Int32Array | null {
    while (this.items.length < this.capacity) {
      const s = source();
      if (!s) break;
      this.items.push(s);
    }
    if (this.items.length === 0) return null;
    const j = drawInt(this.seed, this.draws++, this.items.length);
    const out = this.items[j]!;
    const refill = source();
    if (refill) this.items[j] = refill;
    else {
      this.items[j] = this.items[this.items.length - 1]!;
      this.items.pop();
    }
    return out;
  }

  /** The buffered sequences and the draw count (for checkpoints). */
  snapshot(): { items: Int32Array[]; draws: number } {
    return { items: [...this.items], draws: this.draws };
  }
}
