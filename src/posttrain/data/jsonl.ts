/**
 * Post-training datasets are JSON Lines: one example object per line (blank lines skipped). A line
 * that is not a JSON object is an error naming the file and line, not a skipped example.
 */
import { readFileSync } from 'node:fs';
import { PosttrainError } from '../errors.ts';

export interface Example {
  /** The parsed line. */
  data: Record<string, unknown>;
  /** Where it came from, for messages. */
  file: string;
  /** 0-based line number. */
  line: number;
}

/** Every example of the given JSONL files, in file and line order. */
export function readJsonl(files: readonly string[]): Example[] {
  const out: Example[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new PosttrainError(`${file}: cannot read the dataset (${code === 'ENOENT' ? 'no such file' : (e as Error).message})`);
    }
    text.split('\n').forEach((raw, line) => {
      if (raw.trim() === '') return;
      let v: unknown;
      try {
        v = JSON.parse(raw);
      } catch (e) {
        throw new PosttrainError(`${file}:${line + 1}: not valid JSON (${(e as Error).message})`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw new PosttrainError(`${file}:${line + 1}: each line must be a JSON object`);
      out.push({ data: v as Record<string, unknown>, file, line });
    });
  }
  if (out.length === 0) throw new PosttrainError(`${files.join(', ')}: the dataset is empty`);
  return out;
}

/** A seeded permutation of 0..n−1 (Fisher–Yates with a small LCG, so an epoch's order is reproducible). */
export function permutation(n: number, seed: number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}
