/**
 * Reading a training corpus from disk: plain text files, JSONL files (one JSON object per line with
 * a string `text` field), or a folder of them (recursively, in name order, hidden files skipped).
 * Texts are produced lazily, one file at a time; plain text comes in chunks of about 1 MB cut after
 * a newline, so newlines stay inside the texts (the pre-tokenizer learns "\n\n" and indentation).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { TokenizerError } from './errors.ts';

const JSONL_EXTENSIONS = new Set(['.jsonl', '.ndjson']);
const CHUNK = 1 << 20;

/** The files a corpus path stands for (one file, or every file under a folder). */
export function corpusFiles(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new TokenizerError(`corpus not found: ${path}`);
  }
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(path);
  if (out.length === 0) throw new TokenizerError(`corpus folder has no files: ${path}`);
  return out;
}

/** Texts of one corpus file (see module comment). */
export function* readCorpusFile(file: string): Generator<string> {
  const content = readFileSync(file, 'utf8');
  if (JSONL_EXTENSIONS.has(extname(file).toLowerCase())) {
    let lineNo = 0;
    for (const line of content.split('\n')) {
      lineNo++;
      if (line.trim() === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (e) {
        throw new TokenizerError(`${file}:${lineNo}: malformed JSON line: ${(e as Error).message}`);
      }
      const text = (row as { text?: unknown } | null)?.text;
      if (typeof text !== 'string') throw new TokenizerError(`${file}:${lineNo}: no string 'text' field`);
      yield text;
    }
    return;
  }
  for (let start = 0; start < content.length;) {
    let end = Math.min(content.length, start + CHUNK);
    if (end < content.length) {
      const nl = content.indexOf('\n', end);
      end = nl < 0 ? content.length : nl + 1;
    }
    yield content.slice(start, end);
    start = end;
  }
}

/** All texts of a corpus path (file or folder). */
export function* readCorpus(path: string): Generator<string> {
  for (const file of corpusFiles(path)) yield* readCorpusFile(file);
}
