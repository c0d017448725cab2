/**
 * A bounded cache of BPE results per word, approximating LRU with two generations: lookups hit the
 * young map, then the old one (promoting the entry); when the young map fills up it becomes the old
 * one and the previous old map is dropped. Memory stays below 2 × capacity entries, and the frequent
 * words of a text (which is what makes BPE caching pay) survive every turnover.
 */
export class WordCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(readonly capacity: number) {}

  get(key: string): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o);
    return o;
  }

  set(key: string, value: V): void {
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}
