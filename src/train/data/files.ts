/**
 * The files of a corpus: the paths a run names, with folders expanded recursively to the text and
 * JSONL files inside them, in a sorted, stable order (the data order must not depend on the order a
 * filesystem happens to list entries in).
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { TrainError } from '../errors.ts';

export type CorpusFileKind = 'text' | 'jsonl';

export interface CorpusFile {
  path: string;
  kind: CorpusFileKind;
  /** Size in bytes when listed (for progress and for noticing a corpus changed under a resumed run). */
  size: number;
  /**
   * The name the train/validation split hashes: the path relative to the folder that was named, or
   * the file name, so the split does not change when the corpus moves.
   */
  key: string;
}

const TEXT_EXT = new Set(['.txt', '.text', '.md']);
const JSONL_EXT = new Set(['.jsonl', '.ndjson']);

/** How a file is read, from its extension; null for files a folder scan skips. */
export function kindOf(path: string): CorpusFileKind | null {
  const ext = extname(path).toLowerCase();
  if (JSONL_EXT.has(ext)) return 'jsonl';
  if (TEXT_EXT.has(ext)) return 'text';
  return null;
}

function walk(root: string, dir: string, out: CorpusFile[]): void {
  const names = readdirSync(dir).sort();
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(root, p, out);
    else {
      const kind = kindOf(p);
      if (kind) out.push({ path: p, kind, size: st.size, key: relative(root, p).split('\\').join('/') });
    }
  }
}

/**
 * Expands `paths` (files or folders) into corpus files. A file named directly is read as JSONL when
 * its extension says so, as plain text otherwise; folders contribute only .txt/.text/.md and
 * .jsonl/.ndjson files (hidden entries skipped). `what` names the corpus in errors.
 */
export function listCorpusFiles(paths: readonly string[], what: string): CorpusFile[] {
  const out: CorpusFile[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new TrainError(`${what}: no such file or folder: ${p}`);
    }
    if (st.isDirectory()) {
      const before = out.length;
      walk(p, p, out);
      if (out.length === before) throw new TrainError(`${what}: folder ${p} holds no .txt, .md or .jsonl files`);
    } else {
      out.push({ path: p, kind: kindOf(p) ?? 'text', size: st.size, key: basename(p) });
    }
  }
  return out;
}
