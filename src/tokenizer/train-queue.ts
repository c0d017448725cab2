/**
 * The trainer's priority queue of candidate merges: a binary max-heap on (count, then smaller pair
 * first), the order HF's BpeTrainer uses, so that ties break the same way and training is
 * deterministic. Entries go stale as counts change; the trainer re-checks the count of what it pops
 * (lazy deletion) instead of updating entries in place.
 */
export interface PairEntry {
  count: number;
  a: number;
  b: number;
}

/** Whether x should come out before y. */
function before(x: PairEntry, y: PairEntry): boolean {
  if (x.count !== y.count) return x.count > y.count;
  if (x.a !== y.a) return x.a < y.a;
  return x.b < y.b;
}

export class PairQueue {
  private readonly heap: PairEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(e: PairEntry): void {
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  pop(): PairEntry | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    const n = h.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && before(h[c + 1]!, h[c]!)) c++;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
