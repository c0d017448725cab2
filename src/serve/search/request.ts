/**
 * The chat request's extensions for search and files:
 * - `search`: `true` / `false`, or `{ "query": "…", "max_results": n }` (search on, with its own
 *   query or number of results); left out, the server's default (`dsts serve --search-default on`);
 * - `files`: `[{ "name": "…", "content": "…" }]`, text files wrapped around the question with
 *   DeepSeek's file template.
 */
import { invalidParam } from '../http/errors.ts';
import { Fields, objectAt } from '../http/validate.ts';
import type { FileInput } from './assemble.ts';

export interface SearchAsk {
  /** Search for this rather than the user's last message. */
  query?: string;
  /** Results wanted (else the server's number). */
  maxResults?: number;
}

export const SEARCH_FIELDS = ['search', 'files'] as const;

/** `search`: undefined when not given (the server's default applies), false when turned off. */
export function parseSearchField(f: Fields): SearchAsk | false | undefined {
  const v = f.obj.search;
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v ? {} : false;
  if (typeof v !== 'object' || Array.isArray(v))
    throw invalidParam('search', `'search' must be true, false or an object, got ${Array.isArray(v) ? 'array' : typeof v}`);
  const o = f.object('search');
  if (!o) return undefined;
  const s = new Fields(o, 'search.', ['query', 'max_results']);
  const ask: SearchAsk = {};
  const query = s.string('query', { maxLength: 2000 });
  if (query !== undefined) {
    if (!query.trim()) throw invalidParam('search.query', "'search.query' must not be empty");
    ask.query = query;
  }
  const n = s.number('max_results', 1, 50, { integer: true });
  if (n !== undefined) ask.maxResults = n;
  return ask;
}

/** `files`: up to 32 text files. */
export function parseFilesField(f: Fields): FileInput[] {
  const list = f.array('files', 32) ?? [];
  return list.map((_, i) => {
    const ff = new Fields(objectAt(list, i, 'files'), `files[${i}].`, ['name', 'content']);
    const name = ff.string('name', { required: true, maxLength: 256 })!;
    const content = ff.string('content', { required: true })!;
    return { name, content };
  });
}
