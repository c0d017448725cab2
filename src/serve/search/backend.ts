/**
 * What a search backend is (the local document index, a SearXNG instance, …): a query in, ranked
 * results out. `runSearch` is how the server calls one: bounded in time, and never throwing — a
 * backend that fails or times out gives no results and a notice the answer carries to the user.
 */

export interface SearchResult {
  title: string;
  /** Where the result comes from: an http(s) URL, or a document's path for the local index. */
  url: string;
  /** A short excerpt, shown under the answer (plain text). */
  snippet: string;
  /** The text the model reads (plain text; may be long: the prompt trims it). Defaults to the snippet. */
  content?: string;
}

export interface SearchOptions {
  /** Most results wanted. */
  limit: number;
  /** Aborted when the search must stop (timeout, client gone). */
  signal: AbortSignal;
}

export interface SearchBackend {
  /** 'local', 'searxng', … (shown in notices and metadata). */
  readonly name: string;
  /** Results best first. Throws (or rejects) on failure; `runSearch` turns that into a notice. */
  search(query: string, options: SearchOptions): Promise<SearchResult[]>;
  /** Releases watchers, sockets. */
  close?(): Promise<void> | void;
}

export interface SearchOutcome {
  results: SearchResult[];
  /** Set when the search failed or timed out (the chat answers without results). */
  notice?: string;
}

/** A search that does not finish in time: abandoned, with a notice. */
export async function runSearch(
  backend: SearchBackend,
  query: string,
  options: { limit: number; timeoutMs: number; signal?: AbortSignal },
): Promise<SearchOutcome> {
  const stop = new AbortController();
  const signals = [stop.signal, ...(options.signal ? [options.signal] : [])];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<SearchOutcome>((resolve) => {
    timer = setTimeout(() => {
      stop.abort(new Error('timed out'));
      resolve({ results: [], notice: `search (${backend.name}) timed out after ${options.timeoutMs} ms; answered without results` });
    }, options.timeoutMs);
  });
  const run = (async (): Promise<SearchOutcome> => {
    try {
      const results = await backend.search(query, { limit: options.limit, signal: AbortSignal.any(signals) });
      return { results: results.slice(0, options.limit) };
    } catch (e) {
      const why = (e as Error)?.message ?? String(e);
      return { results: [], notice: `search (${backend.name}) failed: ${why}; answered without results` };
    }
  })();
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
