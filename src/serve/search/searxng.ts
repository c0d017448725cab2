/**
 * The `searxng` search backend: a SearXNG instance's JSON API (`GET <url>/search?q=…&format=json`;
 * the instance must list `json` under `search.formats` in its settings.yml, else it answers 403).
 * Each result's `title`, `url` and `content` (the engine's snippet) become a result; the snippet is
 * what the model reads.
 */
import type { SearchBackend, SearchOptions, SearchResult } from './backend.ts';

export interface SearxngOptions {
  /** The instance's base URL, e.g. http://127.0.0.1:8888 */
  url: string;
  /** Extra query parameters (categories, language, safesearch, engines, …). */
  params?: Record<string, string>;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export class SearxngBackend implements SearchBackend {
  readonly name = 'searxng';
  private readonly base: URL;

  constructor(private readonly options: SearxngOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new Error(`the SearXNG URL '${options.url}' is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`the SearXNG URL '${options.url}' must be http(s)`);
    this.base = base;
  }

  async search(query: string, options: SearchOptions): Promise<SearchResult[]> {
    const url = new URL('search', this.base.href.endsWith('/') ? this.base : `${this.base.href}/`);
    url.search = new URLSearchParams({ ...this.options.params, q: query, format: 'json' }).toString();
    const res = await fetch(url, { signal: options.signal, headers: { accept: 'application/json' } });
    if (!res.ok) {
      await res.body?.cancel();
      const hint = res.status === 403 ? " (does the instance allow format=json? add 'json' to search.formats in its settings.yml)" : '';
      throw new Error(`SearXNG answered HTTP ${res.status}${hint}`);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new Error('SearXNG answered something that is not JSON');
    }
    const list = (body as { results?: unknown })?.results;
    if (!Array.isArray(list)) throw new Error("SearXNG's answer has no 'results' list");
    const out: SearchResult[] = [];
    for (const r of list as Record<string, unknown>[]) {
      if (out.length >= options.limit) break;
      const link = str(r?.url);
      if (!/^https?:\/\//i.test(link)) continue;
      const snippet = str(r.content).trim();
      out.push({ title: str(r.title).trim() || link, url: link, snippet, content: snippet });
    }
    return out;
  }
}
