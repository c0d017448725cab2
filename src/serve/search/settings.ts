/** How a server searches: its backend and the defaults requests start from (`dsts serve --search …`). */
import type { SearchBackend } from './backend.ts';

export interface SearchSettings {
  backend: SearchBackend;
  /** Search when a request does not say (`--search-default on`). */
  defaultOn: boolean;
  /** A search that takes longer is abandoned (the chat answers without results). */
  timeoutMs: number;
  /** Results asked of the backend (a request's `search.max_results` may change it). */
  maxResults: number;
}

export interface SearchOptionsIn {
  backend: SearchBackend;
  /** Default false. */
  default?: boolean;
  /** Default 10 s. */
  timeoutMs?: number;
  /** Default 8. */
  maxResults?: number;
}

export function searchSettings(o: SearchOptionsIn): SearchSettings {
  return { backend: o.backend, defaultOn: o.default ?? false, timeoutMs: o.timeoutMs ?? 10_000, maxResults: o.maxResults ?? 8 };
}
