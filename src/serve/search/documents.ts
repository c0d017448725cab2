/**
 * A document file → its title and plain text, for the local index. Text and Markdown are read as
 * they are; HTML loses its markup, scripts and styles (node-html-parser), keeping `<title>`. Hostile
 * files are held in bounds: only the first `maxBytes` of a huge file are read, a file with NUL bytes
 * (binary) is skipped, and invalid UTF-8 decodes to U+FFFD rather than failing.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parse } from 'node-html-parser';

/** The extensions the local index reads. */
export const DOCUMENT_EXTENSIONS = new Set(['.txt', '.text', '.md', '.markdown', '.html', '.htm']);

export interface DocumentText {
  title: string;
  text: string;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** The first `maxBytes` of a file. */
function head(path: string, maxBytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(maxBytes);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, maxBytes - n, null);
      if (got === 0 || (n += got) >= maxBytes) break;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** An HTML page's title and visible text. */
export function htmlText(html: string): DocumentText {
  const root = parse(html, { blockTextElements: { script: false, noscript: false, style: false, pre: true } });
  const title = root.querySelector('title')?.text.trim() ?? '';
  root.querySelectorAll('head, script, style, noscript, template').forEach((n) => n.remove());
  return { title, text: root.structuredText.trim() };
}

/** A Markdown file's title: its first heading. */
function markdownTitle(text: string): string {
  return /^#{1,6}[ \t]+(.+?)[ \t#]*$/m.exec(text)?.[1]?.trim() ?? '';
}

/** Reads a document; null when it is not text (binary). */
export function readDocument(path: string, maxBytes: number): DocumentText | null {
  const bytes = head(path, maxBytes);
  if (bytes.subarray(0, 8192).includes(0)) return null;
  let text = decoder.decode(bytes);
  if (bytes.length === maxBytes) text = text.replace(/\uFFFD$/, ''); // a character cut at the limit
  const ext = extname(path).toLowerCase();
  const name = basename(path);
  if (ext === '.html' || ext === '.htm') {
    const doc = htmlText(text);
    return { title: doc.title || name, text: doc.text };
  }
  if (ext === '.md' || ext === '.markdown') return { title: markdownTitle(text) || name, text };
  return { title: name, text };
}
