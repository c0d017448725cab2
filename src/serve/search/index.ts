/**
 * Search and files in chat, as in DeepSeek's app: backends (a local document index, SearXNG), the
 * official prompt templates, and the prompt they build within the context. See docs/serving.md.
 */
export { runSearch, type SearchBackend, type SearchResult, type SearchOptions, type SearchOutcome } from './backend.ts';
export { LocalIndex, defaultCacheDir, type LocalIndexOptions } from './local-index.ts';
export { SearxngBackend, type SearxngOptions } from './searxng.ts';
export { openSearchBackend, SEARCH_BACKENDS, type OpenSearchOptions } from './open.ts';
export {
  FILE_TEMPLATE,
  SEARCH_ANSWER_EN_TEMPLATE,
  SEARCH_ANSWER_ZH_TEMPLATE,
  fillTemplate,
  filePrompt,
  searchPrompt,
  questionLanguage,
  currentDate,
} from './templates.ts';
export { assemble, webpageBlock, type AssembleInput, type Assembled, type CitedResult, type FileInput } from './assemble.ts';
export { words } from './words.ts';
export type { SearchSettings, SearchOptionsIn } from './settings.ts';
