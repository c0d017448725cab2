/**
 * Search and files in a chat request: runs the search (bounded in time; a failure is a notice, not
 * an error), then rewrites the last user message with DeepSeek's templates within the room the
 * context leaves after the answer's tokens. What the answer carries back is `SearchInfo`: the
 * results the prompt holds (their ids are the citations'), and any notice.
 */
import type { ServerContext } from '../context.ts';
import { ApiError } from '../http/errors.ts';
import type { ChatMessageIn, ChatRequest } from '../chat/request.ts';
import { buildChatPrompt } from '../chat/prompt.ts';
import { specialTokenPattern } from '../chat/output.ts';
import { assemble } from './assemble.ts';
import { runSearch, type SearchOutcome } from './backend.ts';
import { currentDate } from './templates.ts';

/** A result as the API returns it. */
export interface ResultOut {
  id: number;
  title: string;
  url: string;
  snippet: string;
}

/** The extension fields of an answer (`search`, `files`). */
export interface SearchInfo {
  search?: { backend: string; query: string; results: ResultOut[]; notices: string[] };
  files?: { name: string; truncated: boolean }[];
}

export interface Prepared {
  messages: ChatMessageIn[];
  info: SearchInfo | null;
}

/**
 * Retrieved text and files must not smuggle control tokens into the prompt (a page holding
 * `<｜end▁of▁sentence｜>` would otherwise end the user's turn): the model's special tokens are removed.
 */
export function specialsCleaner(ctx: ServerContext): (text: string) => string {
  const specials = specialTokenPattern(
    ctx.model.tokenizer.addedTokens.filter((t) => t.special).map((t) => t.content),
    [],
  );
  return (t) => (specials ? t.replace(specials, '') : t);
}

/** Whether a request searches: its own `search`, else the server's default. */
export function wantsSearch(ctx: ServerContext, r: ChatRequest): boolean {
  if (r.search === undefined) return ctx.search?.defaultOn ?? false;
  if (r.search === false) return false;
  if (!ctx.search)
    throw new ApiError(
      422,
      "this server has no search backend (start it with 'dsts serve --search local|searxng')",
      'search_unavailable',
      'search',
    );
  return true;
}

/** Tokens left for the prompt: the context less the answer's room (max_tokens, at most half the context). */
export function promptBudget(ctx: ServerContext, r: ChatRequest): number {
  const context = ctx.model.maxContext;
  return context - Math.min(r.maxTokens ?? ctx.limits.defaultMaxTokens, Math.floor(context / 2));
}

export async function prepareSearch(ctx: ServerContext, r: ChatRequest, signal: AbortSignal): Promise<Prepared> {
  const searching = wantsSearch(ctx, r);
  if (!searching && r.files.length === 0) return { messages: r.messages, info: null };
  const last = r.messages[r.messages.length - 1]!;
  if (last.role !== 'user' || last.content === null) {
    const what = searching ? 'search' : "'files'";
    throw new ApiError(422, `${what} needs the last message to be the user's question`, 'invalid_parameter', 'messages');
  }
  const question = last.content;
  let outcome: SearchOutcome | null = null;
  let query = '';
  if (searching) {
    const ask = r.search || {};
    query = ask.query ?? question;
    outcome = await runSearch(ctx.search!.backend, query, {
      limit: ask.maxResults ?? ctx.search!.maxResults,
      timeoutMs: ctx.search!.timeoutMs,
      signal,
    });
  }
  const clean = specialsCleaner(ctx);
  const results =
    outcome?.results.map((x) => ({ ...x, title: clean(x.title), url: clean(x.url), content: clean(x.content ?? x.snippet) })) ?? null;
  const files = r.files.map((f) => ({ name: clean(f.name), content: clean(f.content) }));
  const withText = (text: string): ChatMessageIn[] => [...r.messages.slice(0, -1), { ...last, content: text }];
  const done = assemble({
    question,
    results,
    files,
    date: currentDate(),
    budget: promptBudget(ctx, r),
    promptTokens: (text) => buildChatPrompt(ctx.model, withText(text), r.tools).ids.length,
    tokens: (text) => ctx.model.tokenizer.encode(text, { addSpecialTokens: false }).length,
  });
  const info: SearchInfo = {};
  if (outcome) {
    info.search = {
      backend: ctx.search!.backend.name,
      query,
      results: done.used.map((u) => ({ id: u.id, title: u.title, url: u.url, snippet: u.snippet })),
      notices: [...(outcome.notice ? [outcome.notice] : []), ...done.notices.filter((n) => !n.startsWith('the file'))],
    };
  }
  if (r.files.length > 0) info.files = done.files;
  return { messages: withText(done.text), info };
}
