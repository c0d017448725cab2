/** A search backend by name, as `dsts serve --search <backend>` asks for it. */
import type { SearchBackend } from './backend.ts';
import { LocalIndex } from './local-index.ts';
import { SearxngBackend } from './searxng.ts';

export const SEARCH_BACKENDS = ['local', 'searxng'] as const;
export type SearchBackendName = (typeof SEARCH_BACKENDS)[number];

export interface OpenSearchOptions {
  /** local: the folder of documents. */
  dir?: string;
  /** local: where the index is saved (default ~/.cache/deepseek-ts/search). */
  cacheDir?: string;
  /** searxng: the instance's base URL. */
  url?: string;
}

/** Opens a backend; throws an Error with a user-facing message when its settings are missing or wrong. */
export async function openSearchBackend(name: string, o: OpenSearchOptions): Promise<SearchBackend> {
  if (name === 'local') {
    if (!o.dir) throw new Error('--search local needs --search-dir <folder of documents>');
    return LocalIndex.open(o.dir, { cacheDir: o.cacheDir });
  }
  if (name === 'searxng') {
    if (!o.url) throw new Error('--search searxng needs --searxng-url <base URL of the instance>');
    return new SearxngBackend({ url: o.url });
  }
  throw new Error(`--search expects one of ${SEARCH_BACKENDS.join(', ')}, got '${name}'`);
}
