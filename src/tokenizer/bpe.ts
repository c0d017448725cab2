/**
 * The byte-level BPE model: vocabulary, merge ranks, and the merge loop that turns one pre-token
 * word into token ids, with the same result as HF tokenizers' `BPE::merge_word` (apply the
 * lowest-ranked adjacent merge, leftmost first, until none applies).
 *
 * Speed: words are looked up in a bounded cache first (most words of a text repeat). A miss encodes
 * the word's UTF-8 bytes straight to the ids of their alphabet characters (no intermediate string),
 * then merges in an Int32Array: words up to 32 bytes by scanning an array of pair ranks (two hash
 * lookups per merge; quadratic, but over small integers), longer ones — such as the whole runs of
 * CJK characters DeepSeek-V3's pre-tokenizer keeps together — with a binary heap over a linked list
 * of symbols, O(n log n). (32 was the fastest cut-over measured on mixed Chinese/English words.)
 */
import { BYTE_TO_CHAR, bytesToAlphabet, utf8Into } from './bytes.ts';
import { check, TokenizerError } from './errors.ts';
import type { IdBuffer } from './id-buffer.ts';
import { MergeTable } from './merge-table.ts';
import type { BpeModelJson } from './schema.ts';
import { WordCache } from './word-cache.ts';

/** Words longer than this (in UTF-16 units) are not cached, like HF's MAX_LENGTH. */
const MAX_CACHED_WORD = 256;
/** Up to this many symbols the rank-array scan beats the heap (measured; see module comment). */
const SCAN_LIMIT = 32;

export interface BpeOptions {
  /** Words to keep in the cache (per generation; see WordCache). Default 50 000. */
  cacheCapacity?: number;
}

/** A cached word: one id (most words), or several. */
type Encoded = number | Int32Array;

export class BpeModel {
  /** Token (alphabet string) → id. */
  readonly vocab: Map<string, number>;
  /** Id → token, for the model's own vocabulary (holes are undefined). */
  readonly idToToken: (string | undefined)[];
  readonly merges: MergeTable;
  /** HF `ignore_merges` (Llama-3): a word that is itself in the vocabulary is taken whole. */
  readonly ignoreMerges: boolean;
  /** Id of each byte's alphabet character, -1 if the vocabulary lacks it (the byte is dropped, as HF does without unk). */
  private readonly byteIds = new Int32Array(256);
  private readonly cache: WordCache<Encoded>;
  private bytes = new Uint8Array(1024);
  private syms = new Int32Array(1024);
  /** Rank / merged id of each adjacent pair, for mergeByScan (words up to SCAN_LIMIT symbols). */
  private readonly pairRank = new Int32Array(SCAN_LIMIT);
  private readonly pairId = new Int32Array(SCAN_LIMIT);
  private readonly heapMerger: HeapMerger;

  /**
   * @param vocab token (byte-alphabet string) → id
   * @param merges merge pairs in rank order, as `[a, b]` or legacy `"a b"` strings
   */
  constructor(
    vocab: Map<string, number>,
    merges: ReadonlyArray<string | readonly [string, string]>,
    ignoreMerges: boolean,
    options: BpeOptions = {},
  ) {
    this.vocab = vocab;
    this.ignoreMerges = ignoreMerges;
    this.cache = new WordCache(options.cacheCapacity ?? 50_000);
    let maxId = -1;
    for (const id of vocab.values()) if (id > maxId) maxId = id;
    // Pre-sized so the array stays in fast (non-dictionary) mode whatever the id order.
    this.idToToken = new Array<string | undefined>(maxId + 1).fill(undefined);
    for (const [token, id] of vocab) this.idToToken[id] = token;
    for (let b = 0; b < 256; b++) this.byteIds[b] = vocab.get(BYTE_TO_CHAR[b]!) ?? -1;
    this.merges = new MergeTable(merges.length);
    this.heapMerger = new HeapMerger(this.merges);
    const firstMergedId = maxId + 1 - merges.length;
    for (let rank = 0; rank < merges.length; rank++) {
      const m = merges[rank]!;
      let a: string;
      let b: string;
      if (typeof m === 'string') {
        // Legacy format "a b": byte-level tokens never contain a plain space, so split at the only one.
        const sp = m.indexOf(' ', 1);
        check(sp > 0 && m.indexOf(' ', sp + 1) < 0, `model: merge #${rank} ${JSON.stringify(m)} is not "a b"`);
        a = m.slice(0, sp);
        b = m.slice(sp + 1);
      } else {
        check(
          Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string',
          `model: merge #${rank} is not a pair of strings`,
        );
        a = m[0];
        b = m[1];
      }
      const ia = vocab.get(a);
      const ib = vocab.get(b);
      // Trained vocabularies list merged tokens in merge order right after the base tokens, so the
      // id is usually `firstMergedId + rank`: check that guess by comparing strings in place,
      // which is cheaper than building and hashing a + b (this loop dominates loading).
      const guess = this.idToToken[firstMergedId + rank];
      const merged =
        guess !== undefined && guess.length === a.length + b.length && guess.startsWith(a) && guess.endsWith(b)
          ? firstMergedId + rank
          : vocab.get(a + b);
      if (ia === undefined || ib === undefined) {
        throw new TokenizerError(`merge #${rank} ${JSON.stringify(a + ' ' + b)} uses a token missing from the vocabulary`);
      }
      if (merged === undefined) {
        throw new TokenizerError(`merge #${rank} ${JSON.stringify(a + ' ' + b)} makes a token missing from the vocabulary`);
      }
      this.merges.set(ia, ib, rank, merged);
    }
  }

  /** Builds the model from tokenizer.json's `model` node (type BPE, byte-level). */
  static fromJson(model: BpeModelJson, options: BpeOptions = {}): BpeModel {
    check(typeof model === 'object' && model !== null, "tokenizer.json has no 'model'");
    check(model.type === 'BPE' || model.type === undefined, `unsupported model type '${String(model.type)}' (only BPE)`);
    check(typeof model.vocab === 'object' && model.vocab !== null && !Array.isArray(model.vocab), "model: 'vocab' must be an object");
    check(Array.isArray(model.merges), "model: 'merges' must be an array");
    check(!model.byte_fallback, 'model: byte_fallback BPE is not supported (byte-level BPE only)');
    check(
      !model.continuing_subword_prefix && !model.end_of_word_suffix,
      'model: subword prefixes/suffixes are not supported (byte-level BPE only)',
    );
    check(model.dropout === null || model.dropout === undefined || model.dropout === 0, 'model: BPE dropout is not supported');
    const vocab = new Map<string, number>();
    const raw = model.vocab;
    for (const token in raw) {
      const id = raw[token]!;
      if (!Number.isInteger(id) || id < 0)
        throw new TokenizerError(`model: vocab id of ${JSON.stringify(token)} is not a non-negative integer`);
      vocab.set(token, id);
    }
    return new BpeModel(vocab, model.merges, model.ignore_merges === true, options);
  }

  /** Number of ids the model's vocabulary spans (max id + 1). */
  get size(): number {
    return this.idToToken.length;
  }

  /** Appends the token ids of one pre-tokenized word (plain text; its UTF-8 bytes are what BPE sees). */
  encodeWord(word: string, out: IdBuffer): void {
    let enc = this.cache.get(word);
    if (enc === undefined) {
      enc = this.compute(word);
      if (word.length < MAX_CACHED_WORD) this.cache.set(word, enc);
    }
    if (typeof enc === 'number') out.push(enc);
    else out.pushAll(enc);
  }

  /** Drops all cached words (e.g. to time cold encoding). */
  clearCache(): void {
    this.cache.clear();
  }

  private compute(word: string): Encoded {
    if (this.bytes.length < word.length * 3) this.bytes = new Uint8Array(word.length * 3 * 2);
    const nBytes = utf8Into(word, this.bytes);
    if (this.ignoreMerges) {
      const whole = this.vocab.get(bytesToAlphabet(this.bytes, 0, nBytes));
      if (whole !== undefined) return whole;
    }
    if (this.syms.length < nBytes) this.syms = new Int32Array(nBytes * 2);
    const syms = this.syms;
    let n = 0;
    for (let i = 0; i < nBytes; i++) {
      const id = this.byteIds[this.bytes[i]!]!;
      if (id >= 0) syms[n++] = id;
    }
    n = n <= SCAN_LIMIT ? this.mergeByScan(syms, n) : this.heapMerger.merge(syms, n);
    return n === 1 ? syms[0]! : syms.slice(0, n);
  }

  /**
   * Repeatedly merges the lowest-ranked pair (leftmost on ties) in place; returns the new length.
   * Keeps each adjacent pair's rank in an array, so a merge costs one scan of small integers and
   * only two hash lookups (for the pairs the new symbol forms with its neighbours).
   */
  private mergeByScan(syms: Int32Array, n: number): number {
    if (n < 2) return n;
    const table = this.merges;
    const pr = this.pairRank;
    const pid = this.pairId;
    for (let i = 0; i + 1 < n; i++) {
      const s = table.find(syms[i]!, syms[i + 1]!);
      pr[i] = s >= 0 ? table.rank(s) : NO_MERGE;
      pid[i] = s >= 0 ? table.id(s) : 0;
    }
    while (n > 1) {
      let best = NO_MERGE;
      let at = -1;
      for (let i = 0; i + 1 < n; i++) {
        if (pr[i]! < best) {
          best = pr[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      syms[at] = pid[at]!;
      // Drop symbol at+1 and pair at+1 by shifting the tails left.
      for (let i = at + 1; i + 1 < n; i++) {
        syms[i] = syms[i + 1]!;
        pr[i] = pr[i + 1]!;
        pid[i] = pid[i + 1]!;
      }
      n--;
      if (at > 0) {
        const s = table.find(syms[at - 1]!, syms[at]!);
        pr[at - 1] = s >= 0 ? table.rank(s) : NO_MERGE;
        pid[at - 1] = s >= 0 ? table.id(s) : 0;
      }
      if (at + 1 < n) {
        const s = table.find(syms[at]!, syms[at + 1]!);
        pr[at] = s >= 0 ? table.rank(s) : NO_MERGE;
        pid[at] = s >= 0 ? table.id(s) : 0;
      }
    }
    return n;
  }
}

const NO_MERGE = 0x7fffffff;

/**
 * Heap-driven merging for long words, equivalent to HF's `Word::merge_all`: a min-heap of candidate
 * merges keyed by (rank, position); a popped candidate is stale if its left symbol is gone or the
 * pair at that position no longer has that rank. Symbols form a doubly linked list over positions.
 * Scratch buffers persist between words (grown on demand) so a long word allocates nothing.
 */
class HeapMerger {
  private next = new Int32Array(0);
  private prev = new Int32Array(0);
  private alive = new Uint8Array(0);
  private heap = new Float64Array(0);
  private size = 0;

  constructor(private readonly table: MergeTable) {}

  /** Merges `syms[0..n)` in place; returns the new length. */
  merge(syms: Int32Array, n: number): number {
    if (this.next.length < n) {
      this.next = new Int32Array(n * 2);
      this.prev = new Int32Array(n * 2);
      this.alive = new Uint8Array(n * 2);
      this.heap = new Float64Array(n * 6 + 16); // n - 1 initial candidates + at most 2 per merge
    }
    const { next, prev, alive, table } = this;
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
      alive[i] = 1;
    }
    this.size = 0;
    for (let i = 0; i + 1 < n; i++) this.consider(syms, i);
    while (this.size > 0) {
      const key = this.pop();
      const rank = Math.floor(key / POS);
      const pos = key - rank * POS;
      if (alive[pos] === 0) continue;
      const right = next[pos]!;
      if (right < 0) continue;
      const s = table.find(syms[pos]!, syms[right]!);
      if (s < 0 || table.rank(s) !== rank) continue; // stale: the pair changed since it was queued
      syms[pos] = table.id(s);
      alive[right] = 0;
      const after = next[right]!;
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      if (prev[pos]! >= 0) this.consider(syms, prev[pos]!);
      this.consider(syms, pos);
    }
    let m = 0;
    for (let i = 0; i >= 0; i = next[i]!) syms[m++] = syms[i]!; // position 0 is never a right symbol
    return m;
  }

  /** Queues the merge of the symbol at `pos` with its right neighbour, if there is one. */
  private consider(syms: Int32Array, pos: number): void {
    const right = this.next[pos]!;
    if (right < 0) return;
    const s = this.table.find(syms[pos]!, syms[right]!);
    if (s >= 0) this.push(this.table.rank(s) * POS + pos);
  }

  private push(key: number): void {
    const heap = this.heap;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p]! <= key) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = key;
  }

  private pop(): number {
    const heap = this.heap;
    const top = heap[0]!;
    const size = --this.size;
    const last = heap[size]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && heap[c + 1]! < heap[c]!) c++;
      if (heap[c]! >= last) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
    return top;
  }
}

/** Heap keys are rank * 2^26 + position: ordering keys orders by rank, then position. */
const POS = 67108864;
