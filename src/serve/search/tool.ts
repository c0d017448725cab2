/**
 * The tool route to search: a request that declares a `web_search` function, on a server with a
 * search backend, has the model's calls to it run by the server — the results go back to the model
 * as the tool's output (`[webpage X begin]…` blocks, numbered on from earlier results so citations
 * stay unique) and it continues, for a bounded number of rounds. A reply calling other tools too is
 * returned to the client as usual.
 */
import type { ServerContext } from '../context.ts';
import type { ChatMessageIn, ChatRequest } from '../chat/request.ts';
import type { ParsedToolCall } from '../chat/tool-dialects.ts';
import { runSearch } from './backend.ts';
import { webpageBlock, type CitedResult } from './assemble.ts';
import { specialsCleaner, type SearchInfo } from './chat.ts';
import { cut } from './passages.ts';

export const WEB_SEARCH = 'web_search';

/** Rounds of server-run searches before a reply is returned as it is. */
export const MAX_SEARCH_ROUNDS = 3;

/** Whether the server runs this request's `web_search` calls. */
export function serverRunsSearch(ctx: ServerContext, r: ChatRequest): boolean {
  return ctx.search !== null && r.toolChoice !== 'none' && r.tools.some((t) => t.function.name === WEB_SEARCH);
}

/** Whether a reply's calls are all to `web_search` (and there is at least one). */
export function onlySearchCalls(calls: readonly ParsedToolCall[]): boolean {
  return calls.length > 0 && calls.every((c) => c.function.name === WEB_SEARCH);
}

/** The query a call asks for: its `query` argument (else the whole argument text), else the question. */
function queryOf(call: ParsedToolCall, fallback: string): string {
  try {
    const args = JSON.parse(call.function.arguments) as unknown;
    const q = (args as { query?: unknown })?.query;
    if (typeof q === 'string' && q.trim()) return q;
  } catch {
    // not JSON: the text itself
    if (call.function.arguments.trim()) return call.function.arguments;
  }
  return fallback;
}

/**
 * Runs the calls; returns the messages to continue with (the assistant's calls, one tool message per
 * call) and adds the results to `info`. `tokens` measures text; `room` is how many tokens of results
 * the context still holds.
 */
export async function runSearchCalls(
  ctx: ServerContext,
  messages: readonly ChatMessageIn[],
  reply: { content: string; calls: readonly ParsedToolCall[] },
  info: SearchInfo,
  room: number,
  tokens: (text: string) => number,
  signal: AbortSignal,
): Promise<ChatMessageIn[]> {
  const question = [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const search = (info.search ??= { backend: ctx.search!.backend.name, query: '', results: [], notices: [] });
  const out: ChatMessageIn[] = [
    ...messages,
    { role: 'assistant', content: reply.content === '' ? null : reply.content, toolCalls: reply.calls.map((c) => ({ ...c })) },
  ];
  const clean = specialsCleaner(ctx);
  let left = room;
  for (const call of reply.calls) {
    const query = queryOf(call, question);
    search.query = search.query ? `${search.query}; ${query}` : query;
    const found = await runSearch(ctx.search!.backend, query, { limit: ctx.search!.maxResults, timeoutMs: ctx.search!.timeoutMs, signal });
    if (found.notice) search.notices.push(found.notice);
    const blocks: string[] = [];
    for (const raw of found.results) {
      const r = { ...raw, title: clean(raw.title), url: clean(raw.url), content: clean(raw.content ?? raw.snippet) };
      const cited: CitedResult = { ...r, id: search.results.length + 1 };
      let block = webpageBlock(cited.id, cited);
      let need = tokens(block) + 1;
      if (need > left) {
        const body = r.content ?? r.snippet;
        const keep = Math.floor((body.length * Math.max(0, left - (need - tokens(body)))) / Math.max(1, need));
        if (keep < 64) break;
        block = webpageBlock(cited.id, { ...cited, content: cut(body, keep) });
        need = tokens(block) + 1;
        if (need > left) break;
      }
      left -= need;
      blocks.push(block);
      search.results.push({ id: cited.id, title: r.title, url: r.url, snippet: r.snippet });
    }
    const content = blocks.length > 0 ? blocks.join('\n') : found.notice ? `The search failed: ${found.notice}` : 'No results.';
    out.push({ role: 'tool', toolCallId: call.id, content });
  }
  return out;
}
