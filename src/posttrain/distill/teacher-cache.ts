/**
 * The teacher's soft labels, computed once and kept on disk: for every position of every training
 * sequence, the k most likely next tokens and their log-probabilities at the run's temperature
 * (losses.ts spreads the remaining mass evenly over the other V − k tokens). A run that reads them
 * needs no teacher in memory, and every run over the same data (another student, another loss
 * weight) reuses them.
 *
 * A cache is a folder:
 *   meta.json   {"format": "dsts-teacher-topk", "version": 1, "teacher", "k", "temperature", "vocab", "seqLen"}
 *   topk.bin    fixed-size records, one per sequence: its seqLen + 1 token ids (i32), then per
 *               position k token ids (i32) and k log-probabilities (f32), little-endian
 * Records are found by their token ids (a sequence seen twice is stored once), so the cache does not
 * depend on the order the loader draws them in, and a resumed run finds what it needs. A record cut
 * short by a crash is dropped when the cache is opened again.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import * as T from '../../tensor/index.ts';
import { Tensor, floatData } from '../../tensor/index.ts';
import type { CausalLM } from '../../model/causal-lm.ts';
import { PosttrainError } from '../errors.ts';
import { logSoftmaxRow } from './losses.ts';

export interface TopK {
  k: number;
  /** [rows·k] token ids, most likely first. */
  indices: Int32Array;
  /** [rows·k] their log-probabilities at the temperature. */
  logprobs: Float32Array;
}

/** The k largest log-probabilities of each row of logits [..., V] / T, most likely first. */
export function topKLogprobs(logits: Tensor, k: number, temperature: number): TopK {
  const V = logits.shape[logits.rank - 1]!;
  if (k < 1 || k > V) throw new Error(`topKLogprobs: k must be in 1..${V}, got ${k}`);
  const rows = logits.size / V;
  const x = floatData(logits);
  const lp = new Float64Array(V);
  const indices = new Int32Array(rows * k);
  const logprobs = new Float32Array(rows * k);
  // A min-heap of the k best (value, index) so far: O(V log k) per row.
  const hv = new Float64Array(k);
  const hi = new Int32Array(k);
  for (let r = 0; r < rows; r++) {
    logSoftmaxRow(x, r * V, V, temperature, lp);
    let n = 0;
    for (let j = 0; j < V; j++) {
      const v = lp[j]!;
      if (n < k) {
        let c = n++;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if (hv[p]! <= v) break;
          hv[c] = hv[p]!;
          hi[c] = hi[p]!;
          c = p;
        }
        hv[c] = v;
        hi[c] = j;
      } else if (v > hv[0]!) {
        let c = 0;
        for (;;) {
          const l = 2 * c + 1;
          if (l >= k) break;
          const m = l + 1 < k && hv[l + 1]! < hv[l]! ? l + 1 : l;
          if (hv[m]! >= v) break;
          hv[c] = hv[m]!;
          hi[c] = hi[m]!;
          c = m;
        }
        hv[c] = v;
        hi[c] = j;
      }
    }
    const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => hv[b]! - hv[a]! || hi[a]! - hi[b]!);
    order.forEach((src, dst) => {
      indices[r * k + dst] = hi[src]!;
      logprobs[r * k + dst] = hv[src]!;
    });
  }
  return { k, indices, logprobs };
}

export interface CacheMeta {
  format: 'dsts-teacher-topk';
  version: 1;
  /** The teacher folder and its weights' size (what the labels came from). */
  teacher: { dir: string; bytes: number };
  k: number;
  temperature: number;
  vocab: number;
  seqLen: number;
}

const key = (ids: Int32Array) => Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength).toString('base64');

export class TeacherCache {
  private readonly fd: number;
  private readonly index = new Map<string, number>();
  private records: number;
  /** Bytes of one record. */
  readonly recordBytes: number;

  private constructor(
    readonly dir: string,
    readonly meta: CacheMeta,
  ) {
    const L = meta.seqLen;
    this.recordBytes = 4 * (L + 1) + 8 * L * meta.k;
    this.fd = openSync(join(dir, 'topk.bin'), existsSync(join(dir, 'topk.bin')) ? 'r+' : 'w+');
    const size = fstatSync(this.fd).size;
    this.records = Math.floor(size / this.recordBytes);
    if (size !== this.records * this.recordBytes) ftruncateSync(this.fd, this.records * this.recordBytes);
    const ids = new Int32Array(L + 1);
    for (let i = 0; i < this.records; i++) {
      readSync(this.fd, ids, 0, ids.byteLength, i * this.recordBytes);
      this.index.set(key(ids), i);
    }
  }

  /**
   * Opens the cache in `dir`, creating it when absent. An existing cache made with other settings
   * (teacher, k, temperature, vocabulary, sequence length) is an error, never overwritten.
   */
  static open(dir: string, want: CacheMeta): TeacherCache {
    const metaPath = join(dir, 'meta.json');
    if (existsSync(metaPath)) {
      let have: CacheMeta;
      try {
        have = JSON.parse(readFileSync(metaPath, 'utf8')) as CacheMeta;
      } catch {
        throw new PosttrainError(`${metaPath}: not a teacher cache (unreadable meta.json)`);
      }
      const fields = ['format', 'k', 'temperature', 'vocab', 'seqLen'] as const;
      const differ = fields.filter((f) => have[f] !== want[f]);
      if (have.teacher?.dir !== want.teacher.dir || have.teacher?.bytes !== want.teacher.bytes) differ.push('teacher' as never);
      if (differ.length > 0)
        throw new PosttrainError(
          `${dir}: this teacher cache was made with other settings (${differ.map((f) => `${f}: ${JSON.stringify(have[f])} ≠ ${JSON.stringify(want[f])}`).join(', ')}); ` +
            `name another distill.teacherCache.path, or delete the folder`,
        );
    } else {
      if (existsSync(dir) && readdirSync(dir).length > 0)
        throw new PosttrainError(`${dir}: the folder exists and is not a teacher cache; name another distill.teacherCache.path`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(metaPath, JSON.stringify(want, null, 2) + '\n');
    }
    return new TeacherCache(dir, want);
  }

  get size(): number {
    return this.records;
  }

  has(seq: Int32Array): boolean {
    return this.index.has(key(seq));
  }

  /** Stores one sequence's top-k (rows = seqLen positions). */
  append(seq: Int32Array, top: TopK, row0: number): void {
    if (this.has(seq)) return;
    const { seqLen: L, k } = this.meta;
    const buf = Buffer.alloc(this.recordBytes);
    Buffer.from(seq.buffer, seq.byteOffset, seq.byteLength).copy(buf, 0);
    const at = 4 * (L + 1);
    Buffer.from(top.indices.buffer, top.indices.byteOffset + 4 * row0 * k, 4 * L * k).copy(buf, at);
    Buffer.from(top.logprobs.buffer, top.logprobs.byteOffset + 4 * row0 * k, 4 * L * k).copy(buf, at + 4 * L * k);
    writeSync(this.fd, buf, 0, buf.length, this.records * this.recordBytes);
    this.index.set(key(seq), this.records++);
  }

  /** The top-k of every position of a batch ids [B, seqLen + 1] (rows in batch order). */
  lookup(ids: Tensor): TopK {
    const { seqLen: L, k } = this.meta;
    const [B, L1] = ids.shape as [number, number];
    if (L1 !== L + 1) throw new PosttrainError(`teacher cache: it holds sequences of ${L} tokens, the batch has ${L1 - 1}`);
    const data = T.rowMajor(ids) as Int32Array;
    const indices = new Int32Array(B * L * k);
    const logprobs = new Float32Array(B * L * k);
    const buf = Buffer.alloc(8 * L * k);
    for (let b = 0; b < B; b++) {
      const seq = data.subarray(b * L1, (b + 1) * L1);
      const i = this.index.get(key(seq));
      if (i === undefined)
        throw new PosttrainError(
          `teacher cache ${this.dir}: no soft labels for a training sequence (the data changed since it was filled?)`,
        );
      readSync(this.fd, buf, 0, buf.length, i * this.recordBytes + 4 * (L + 1));
      new Uint8Array(indices.buffer, 4 * b * L * k, 4 * L * k).set(buf.subarray(0, 4 * L * k));
      new Uint8Array(logprobs.buffer, 4 * b * L * k, 4 * L * k).set(buf.subarray(4 * L * k));
    }
    return { k, indices, logprobs };
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Computes the teacher's top-k for every sequence the cache lacks, `batch` sequences per forward,
 * and stores them. Returns how many were added.
 */
export function fillTeacherCache(
  cache: TeacherCache,
  teacher: CausalLM,
  sequences: readonly Int32Array[],
  batch: number,
  log: (line: string) => void,
): number {
  const { seqLen: L, k, temperature } = cache.meta;
  const seen = new Set<string>();
  const todo = sequences.filter((s) => {
    const id = key(s);
    if (cache.has(s) || seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const t0 = performance.now();
  for (let i = 0; i < todo.length; i += batch) {
    const part = todo.slice(i, i + batch);
    const inputs = new Int32Array(part.length * L);
    part.forEach((s, b) => inputs.set(s.subarray(0, L), b * L));
    const top = T.noGrad(() => {
      const { logits } = teacher.forward(new Tensor(inputs, [part.length, L], 'i32'));
      return topKLogprobs(logits!, k, temperature);
    });
    part.forEach((s, b) => cache.append(s, top, b * L));
    const done = Math.min(i + batch, todo.length);
    if (done === todo.length || (i / batch) % 10 === 9)
      log(`teacher cache: ${done}/${todo.length} sequences (${((done * L) / ((performance.now() - t0) / 1000)).toFixed(0)} tokens/s)`);
  }
  return todo.length;
}
