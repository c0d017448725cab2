/**
 * A growable buffer of token ids over an Int32Array, reused across encode calls. Growing a plain
 * JavaScript array id by id reallocates it repeatedly, and each large reallocation touches fresh
 * memory; one buffer that only grows (doubling) touches its memory once per process.
 */
export class IdBuffer {
  data: Int32Array;
  length = 0;

  constructor(capacity = 1 << 14) {
    this.data = new Int32Array(capacity);
  }

  push(id: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = id;
  }

  pushAll(ids: ArrayLike<number>): void {
    const n = ids.length;
    if (this.length + n > this.data.length) this.grow(this.length + n);
    const data = this.data;
    let k = this.length;
    for (let i = 0; i < n; i++) data[k++] = ids[i]!;
    this.length = k;
  }

  private grow(need: number): void {
    let cap = this.data.length * 2;
    while (cap < need) cap *= 2;
    const next = new Int32Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  /** The ids as a new plain array (allocated once, at its final size). */
  toArray(): number[] {
    const n = this.length;
    const out = new Array<number>(n);
    const data = this.data;
    for (let i = 0; i < n; i++) out[i] = data[i]!;
    return out;
  }
}
