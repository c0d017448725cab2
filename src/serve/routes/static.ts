/**
 * The web chat's files: our own from src/serve/web/, and the markdown renderer (marked) and HTML
 * sanitizer (DOMPurify) served straight from their npm packages' ES-module builds.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

interface StaticFile {
  path: string;
  type: string;
}

const web = (name: string): StaticFile => ({
  path: fileURLToPath(new URL(`../web/${name}`, import.meta.url)),
  type: TYPES[name.split('.').pop()!]!,
});

/** URL path → file. */
export const STATIC_FILES: Record<string, StaticFile> = {
  '/': web('index.html'),
  '/index.html': web('index.html'),
  '/app.js': web('app.js'),
  '/markdown.js': web('markdown.js'),
  '/store.js': web('store.js'),
  '/sources.js': web('sources.js'),
  '/style.css': web('style.css'),
  '/favicon.svg': web('favicon.svg'),
  // Their ES-module builds (no imports of their own), loaded by the page with `import`.
  '/vendor/marked.js': { path: join(dirname(require.resolve('marked')), 'marked.esm.js'), type: TYPES.js! },
  '/vendor/purify.js': { path: join(dirname(require.resolve('dompurify')), 'purify.es.mjs'), type: TYPES.js! },
};

const cache = new Map<string, Buffer>();

/** The file's bytes (read once, then kept). */
export function staticFile(urlPath: string): { body: Buffer; type: string } | null {
  const f = STATIC_FILES[urlPath];
  if (!f) return null;
  let body = cache.get(f.path);
  if (!body) {
    body = readFileSync(f.path);
    cache.set(f.path, body);
  }
  return { body, type: f.type };
}
