/**
 * The merge table of a BPE model: (left id, right id) → (rank, merged id), in an open-addressing
 * hash table over typed arrays. BPE looks pairs up in its innermost loop; a JavaScript Map keyed by
 * strings or by 2^40-sized numbers would allocate or hash far more slowly. (Measured: keeping the
 * fields in separate arrays probes faster than interleaving them, since most probes only read
 * `ranks` to find an empty slot.)
 */
export class MergeTable {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  /** Rank of the merge in each slot (its line in `merges`; lower merges first), -1 when empty. */
  private readonly ranks: Int32Array;
  /** Id of the merged token in each slot. */
  private readonly ids: Int32Array;
  private readonly mask: number;
  size = 0;

  constructor(capacity: number) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2; // load factor ≤ 1/2 keeps probes short
    this.left = new Int32Array(slots);
    this.right = new Int32Array(slots);
    this.ranks = new Int32Array(slots).fill(-1);
    this.ids = new Int32Array(slots);
    this.mask = slots - 1;
  }

  private static hash(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0;
  }

  /** Adds a merge. A pair listed twice keeps its later rank, as HF builds its map by collecting in order. */
  set(a: number, b: number, rank: number, id: number): void {
    let s = MergeTable.hash(a, b) & this.mask;
    while (this.ranks[s] !== -1) {
      if (this.left[s] === a && this.right[s] === b) break;
      s = (s + 1) & this.mask;
    }
    if (this.ranks[s] === -1) this.size++;
    this.left[s] = a;
    this.right[s] = b;
    this.ranks[s] = rank;
    this.ids[s] = id;
  }

  /** Slot of pair (a, b), or -1 if it is not a merge. */
  find(a: number, b: number): number {
    const { ranks, left, right, mask } = this;
    let s = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) & mask; // = hash(a, b) & mask
    for (;;) {
      if (ranks[s] === -1) return -1;
      if (left[s] === a && right[s] === b) return s;
      s = (s + 1) & mask;
    }
  }

  /** Rank of the merge in slot `s` (lower merges first). */
  rank(s: number): number {
    return this.ranks[s]!;
  }

  /** Id of the token the merge in slot `s` makes. */
  id(s: number): number {
    return this.ids[s]!;
  }
}
