/**
 * The `local` search backend: a folder of documents (text, Markdown, HTML) in a MiniSearch full-text
 * index (BM25+ ranking, fuzzy and prefix matching) over words from `Intl.Segmenter` (words.ts, so
 * Chinese is searchable). The index is saved with each file's size and modification time under a
 * cache folder, so a restart re-reads only the files that changed; while serving, a watcher on the
 * folder (fs.watch, recursive) brings the index up to date shortly after files change.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { extname, join, relative, resolve, sep } from 'node:path';
import MiniSearch from 'minisearch';
import type { SearchBackend, SearchOptions, SearchResult } from './backend.ts';
import { DOCUMENT_EXTENSIONS, readDocument } from './documents.ts';
import { bestPassages } from './passages.ts';
import { words } from './words.ts';

export interface LocalIndexOptions {
  /** Where the index is saved (default: $XDG_CACHE_HOME or ~/.cache, under deepseek-ts/search/). */
  cacheDir?: string;
  /** Bytes read from each file at most (default 2 MiB); the rest of a huge file is not indexed. */
  maxFileBytes?: number;
  /** Characters of a document given to the model per result, at most (default 4000). */
  contentChars?: number;
  /** Watch the folder for changes (default true). */
  watch?: boolean;
  /** Wait after a change before re-indexing, ms (default 200), so a burst of writes is one update. */
  debounceMs?: number;
}

interface FileStamp {
  size: number;
  mtimeMs: number;
}

interface Saved {
  version: number;
  folder: string;
  files: Record<string, FileStamp>;
  index: unknown;
}

/** The saved index's format; a change to how words are made (words.ts) changes it too. */
const FORMAT = 2;

/** The default cache folder. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'deepseek-ts', 'search');
}

const INDEX_OPTIONS = {
  idField: 'id',
  fields: ['title', 'text'],
  storeFields: ['title'],
  tokenize: words,
  processTerm: (t: string) => t,
};

const newIndex = () => new MiniSearch(INDEX_OPTIONS);

const LATIN = /^[\p{Script=Latin}\d]+$/u;

export class LocalIndex implements SearchBackend {
  readonly name = 'local';
  readonly folder: string;
  private readonly cacheFile: string;
  private readonly maxFileBytes: number;
  private readonly contentChars: number;
  private index = newIndex();
  private files = new Map<string, FileStamp>();
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** Files read by the last sync (for tests and logs). */
  lastSync = { read: 0, removed: 0, skipped: 0 };

  private constructor(
    folder: string,
    private readonly options: LocalIndexOptions,
  ) {
    this.folder = resolve(folder);
    const key = createHash('sha256').update(this.folder).digest('hex').slice(0, 16);
    this.cacheFile = join(options.cacheDir ?? defaultCacheDir(), `${key}.json`);
    this.maxFileBytes = options.maxFileBytes ?? 2 * 1024 * 1024;
    this.contentChars = options.contentChars ?? 4000;
  }

  /** Opens the index of `folder`: loads the saved one, catches up with the folder, starts watching. */
  static async open(folder: string, options: LocalIndexOptions = {}): Promise<LocalIndex> {
    const s = await stat(folder).catch(() => null);
    if (!s?.isDirectory()) throw new Error(`the search folder '${folder}' does not exist or is not a folder`);
    const ix = new LocalIndex(folder, options);
    await ix.load();
    await ix.sync();
    if (options.watch ?? true) ix.startWatching();
    return ix;
  }

  /** Documents indexed. */
  get size(): number {
    return this.index.documentCount;
  }

  private async load(): Promise<void> {
    let saved: Saved;
    try {
      saved = JSON.parse(await readFile(this.cacheFile, 'utf8')) as Saved;
    } catch {
      return; // none yet, or unreadable: built afresh
    }
    if (saved.version !== FORMAT || saved.folder !== this.folder) return;
    try {
      this.index = MiniSearch.loadJS(saved.index as Parameters<typeof MiniSearch.loadJS>[0], INDEX_OPTIONS);
      this.files = new Map(Object.entries(saved.files));
    } catch {
      this.index = newIndex();
      this.files.clear();
    }
  }

  private async save(): Promise<void> {
    const saved: Saved = { version: FORMAT, folder: this.folder, files: Object.fromEntries(this.files), index: this.index.toJSON() };
    await mkdir(join(this.cacheFile, '..'), { recursive: true });
    const tmp = `${this.cacheFile}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(saved));
    await rename(tmp, this.cacheFile);
  }

  /** Document files under the folder (hidden files and folders, and links, left out). */
  private async walk(): Promise<Map<string, FileStamp>> {
    const out = new Map<string, FileStamp>();
    const visit = async (dir: string) => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const path = join(dir, e.name);
        if (e.isDirectory()) await visit(path);
        else if (e.isFile() && DOCUMENT_EXTENSIONS.has(extname(e.name).toLowerCase())) {
          const s = await stat(path).catch(() => null);
          if (s) out.set(relative(this.folder, path).split(sep).join('/'), { size: s.size, mtimeMs: s.mtimeMs });
        }
      }
    };
    await visit(this.folder);
    return out;
  }

  /** Brings the index up to date with the folder (one at a time; a call during a sync runs another after). */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      try {
        do {
          this.again = false;
          await this.syncOnce();
        } while (this.again && !this.closed);
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const now = await this.walk();
    const stats = { read: 0, removed: 0, skipped: 0 };
    for (const id of [...this.files.keys()]) {
      if (now.has(id)) continue;
      if (this.index.has(id)) this.index.discard(id);
      this.files.delete(id);
      stats.removed++;
    }
    for (const [id, stamp] of now) {
      const old = this.files.get(id);
      if (old && old.size === stamp.size && old.mtimeMs === stamp.mtimeMs) continue;
      if (this.index.has(id)) this.index.discard(id);
      let doc = null;
      try {
        doc = readDocument(join(this.folder, id), this.maxFileBytes);
      } catch {
        // unreadable now (removed, permissions): tried again when it changes
      }
      this.files.set(id, stamp);
      if (doc) {
        this.index.add({ id, title: doc.title, text: doc.text });
        stats.read++;
      } else stats.skipped++;
      await new Promise((r) => setImmediate(r)); // let requests run between files
    }
    this.lastSync = stats;
    if (stats.read + stats.removed + stats.skipped > 0 && !this.closed) await this.save();
  }

  private startWatching(): void {
    const later = () => {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.closed) this.sync().catch((e) => console.error('deepseek-ts search: re-indexing failed:', e));
      }, this.options.debounceMs ?? 200);
    };
    try {
      this.watcher = watch(this.folder, { recursive: true }, later);
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = null; // no watching here: the index catches up at the next start
    }
  }

  async search(query: string, options: SearchOptions): Promise<SearchResult[]> {
    if (this.syncing) await this.syncing;
    const hits = this.index.search(query, {
      boost: { title: 2 },
      combineWith: 'OR',
      prefix: (term) => LATIN.test(term) && term.length >= 4,
      fuzzy: (term) => (LATIN.test(term) && term.length >= 5 ? 0.2 : false),
    });
    const out: SearchResult[] = [];
    for (const hit of hits) {
      if (out.length >= options.limit || options.signal.aborted) break;
      const id = String(hit.id);
      let doc = null;
      try {
        doc = readDocument(join(this.folder, id), this.maxFileBytes);
      } catch {
        continue; // gone since it was indexed
      }
      if (!doc) continue;
      const { snippet, content } = bestPassages(doc.text, query, this.contentChars);
      out.push({ title: doc.title, url: id, snippet, content });
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.close();
    if (this.timer) clearTimeout(this.timer);
    await this.syncing?.catch(() => undefined);
  }
}
