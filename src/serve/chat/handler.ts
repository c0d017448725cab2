/**
 * `POST /v1/chat/completions`: validate → render the prompt → queue the generation → answer, either
 * as one `chat.completion` object or as a stream of `chat.completion.chunk` events (reasoning in
 * `delta.reasoning_content`, the answer in `delta.content`, tool calls in `delta.tool_calls`, then a
 * chunk with `finish_reason`, usage when asked, and `data: [DONE]`).
 */
import type { ServerResponse } from 'node:http';
import { requestSampling, checkTextLength, generationError, outputBudget, startGeneration, type ServerContext } from '../context.ts';
import type { Generation } from '../engine/generation.ts';
import { SseStream } from '../http/sse.ts';
import type { Json } from '../http/validate.ts';
import { SYSTEM_FINGERPRINT, responseId, unixNow } from '../ids.ts';
import { predictionTokens, type PredictionTokens } from '../speculation-usage.ts';
import { chatLogprob, type ChatLogprob } from '../logprobs.ts';
import { ChatOutput, type ChatDelta } from './output.ts';
import { planChat, type ChatPlan } from './plan.ts';
import { ApiError } from '../http/errors.ts';
import { buildChatPrompt, type ChatPrompt } from './prompt.ts';
import { parseChatRequest, type ChatRequest } from './request.ts';
import type { ParsedToolCall } from './tool-dialects.ts';
import { prepareSearch, promptBudget, type SearchInfo } from '../search/chat.ts';
import { MAX_SEARCH_ROUNDS, onlySearchCalls, runSearchCalls, serverRunsSearch } from '../search/tool.ts';

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_cache_hit_tokens: number;
  prompt_cache_miss_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number } & Partial<PredictionTokens>;
}

export function chatUsage(gen: Generation, reasoningTokens: number): ChatUsage {
  return {
    prompt_tokens: gen.promptTokens,
    completion_tokens: gen.completionTokens,
    total_tokens: gen.promptTokens + gen.completionTokens,
    prompt_cache_hit_tokens: gen.cachedTokens,
    prompt_cache_miss_tokens: gen.promptTokens - gen.cachedTokens,
    prompt_tokens_details: { cached_tokens: gen.cachedTokens },
    completion_tokens_details: { reasoning_tokens: reasoningTokens, ...predictionTokens(gen) },
  };
}

type FinishReason = 'stop' | 'length' | 'tool_calls';

function finishReason(gen: Generation, calls: ParsedToolCall[]): FinishReason {
  if (calls.length > 0) return 'tool_calls';
  return gen.finishReason === 'length' ? 'length' : 'stop';
}

export async function chatCompletions(ctx: ServerContext, body: Json, res: ServerResponse): Promise<void> {
  const r = parseChatRequest(body, { maxTokens: ctx.limits.maxTokens, vocabSize: ctx.model.model.vocabSize });
  checkTextLength(
    ctx,
    r.messages.reduce((n, m) => n + (m.content?.length ?? 0) + (m.reasoningContent?.length ?? 0), 0),
    'messages',
  );
  checkTextLength(
    ctx,
    r.files.reduce((n, f) => n + f.content.length, 0),
    'files',
  );
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  const prepared = await prepareSearch(ctx, r, gone.signal);
  if (gone.signal.aborted) return; // the client left during the search
  const meta = { id: responseId('chatcmpl'), created: unixNow(), model: ctx.model.id };
  const runsSearch = serverRunsSearch(ctx, r);
  let info = prepared.info;
  let request: ChatRequest = { ...r, messages: prepared.messages };
  let sse: SseStream | null = null;
  let earlier: ChatUsage | null = null;
  for (let round = 0; ; round++) {
    let started: ReturnType<typeof startRound>;
    try {
      started = startRound(ctx, request, res);
    } catch (e) {
      if (!sse) throw e;
      // A later round refused (queue full, context full): the open stream ends with the error.
      sse.send(generationError(e).body());
      sse.end();
      return;
    }
    const { gen, out, prompt } = started;
    if (r.stream && !sse) sse = openStream(ctx, r, meta, res, info);
    const done = sse ? await streamRound(ctx, r, gen, out, meta, sse) : await collectRound(ctx, r, gen, out);
    if (!done) return; // the client is gone, or the stream ended on an error
    const usage = addUsage(earlier, chatUsage(gen, done.reasoningTokens));
    if (runsSearch && round < MAX_SEARCH_ROUNDS && onlySearchCalls(done.toolCalls)) {
      // The server runs the model's web_search calls and lets it continue with the results.
      info ??= {};
      const tokens = (t: string) => ctx.model.tokenizer.encode(t, { addSpecialTokens: false }).length;
      const room = promptBudget(ctx, r) - prompt.ids.length - gen.completionTokens - 64;
      const messages = await runSearchCalls(
        ctx,
        request.messages,
        { content: out.content, calls: done.toolCalls },
        info,
        room,
        tokens,
        gone.signal,
      );
      if (gone.signal.aborted) return;
      if (sse) sendInfo(sse, meta, info);
      request = { ...request, messages, toolChoice: 'auto' };
      earlier = usage;
      continue;
    }
    if (sse) finishStream(r, gen, done, meta, sse, usage);
    else answer(ctx, r, gen, out, done, meta, res, info, usage);
    return;
  }
}

/** Renders the prompt of a request (or of a later round) and queues its generation. */
function startRound(ctx: ServerContext, r: ChatRequest, res: ServerResponse): { gen: Generation; out: ChatOutput; prompt: ChatPrompt } {
  const prompt = buildChatPrompt(ctx.model, r.messages, r.tools);
  const maxTokens = outputBudget(ctx, prompt.ids.length, r.maxTokens);
  const plan = planChat(ctx.model, r, prompt, ctx.limits.thinkingBudget);
  checkStructureFits(plan, r, maxTokens);
  const gen = startGeneration(
    ctx,
    {
      prompt: prompt.ids,
      maxTokens,
      sampling: requestSampling(ctx, r.sampling),
      stopTokenIds: r.ignoreEos ? [] : ctx.model.eosIds,
      stop: r.stop,
      skipSpecialTokens: plan.skipSpecialTokens,
      constraint: plan.constraint,
      logprobs: r.logprobs ? r.topLogprobs : undefined,
      logitBias: r.logitBias,
    },
    res,
  );
  return { gen, out: new ChatOutput(plan.output), prompt };
}

/** Usage over the rounds of a request: every count summed. */
function addUsage(a: ChatUsage | null, b: ChatUsage): ChatUsage {
  if (!a) return b;
  const sum = (x: Record<string, unknown>, y: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(y).map(([k, v]) => [
        k,
        typeof v === 'number' ? v + ((x[k] as number) ?? 0) : sum((x[k] ?? {}) as Record<string, unknown>, v as Record<string, unknown>),
      ]),
    );
  return sum(a as unknown as Record<string, unknown>, b as unknown as Record<string, unknown>) as unknown as ChatUsage;
}

/**
 * A JSON answer or a forced tool call that cannot be completed within the output budget is refused
 * up front, rather than cut off unparseable after all its tokens were spent.
 */
function checkStructureFits(plan: ChatPlan, r: ChatRequest, maxTokens: number): void {
  const need = plan.constraint?.minTokens() ?? 0;
  if (need <= maxTokens) return;
  const what = r.jsonMode ? 'a JSON object' : 'the forced tool call';
  if (r.maxTokens !== null && r.maxTokens < need) {
    throw new ApiError(
      422,
      `'max_tokens' is ${r.maxTokens}, but ${what} needs at least ${need} tokens here`,
      'max_tokens_too_small',
      'max_tokens',
    );
  }
  throw new ApiError(
    422,
    `the context leaves room for ${maxTokens} output tokens, but ${what} needs at least ${need}`,
    'context_length_exceeded',
    'messages',
  );
}

interface Meta {
  id: string;
  created: number;
  model: string;
}

interface RoundEnd {
  reasoningTokens: number;
  logprobs: ChatLogprob[];
  toolCalls: ParsedToolCall[];
}

/** Reads a generation to its end (null: the client is gone). */
async function collectRound(ctx: ServerContext, r: ChatRequest, gen: Generation, out: ChatOutput): Promise<RoundEnd | null> {
  const logprobs: ChatLogprob[] = [];
  let reasoningTokens = 0;
  try {
    for await (const e of gen) {
      if (e.token < 0) continue;
      if (out.inReasoning) reasoningTokens++;
      if (e.logprob && r.logprobs) logprobs.push(chatLogprob(ctx.model, e.token, e.logprob));
      out.push(e.text);
    }
  } catch (e) {
    throw generationError(e);
  }
  if (gen.finishReason === 'abort') return null;
  return { reasoningTokens, logprobs, toolCalls: out.finish().toolCalls };
}

function answer(
  ctx: ServerContext,
  r: ChatRequest,
  gen: Generation,
  out: ChatOutput,
  done: RoundEnd,
  meta: Meta,
  res: ServerResponse,
  info: SearchInfo | null,
  usage: ChatUsage,
): void {
  const { toolCalls } = done;
  const message: Record<string, unknown> = { role: 'assistant', content: out.content === '' && toolCalls.length > 0 ? null : out.content };
  if (ctx.model.reasoning) message.reasoning_content = out.reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const payload = {
    ...meta,
    object: 'chat.completion',
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, message, logprobs: r.logprobs ? { content: done.logprobs } : null, finish_reason: finishReason(gen, toolCalls) }],
    usage,
    ...info,
  };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

const chunkOf = (meta: Meta, rest: Record<string, unknown>) => ({
  ...meta,
  object: 'chat.completion.chunk',
  system_fingerprint: SYSTEM_FINGERPRINT,
  ...rest,
});

/** Search results and file notes, in a chunk without choices. */
function sendInfo(sse: SseStream, meta: Meta, info: SearchInfo): void {
  sse.send(chunkOf(meta, { choices: [], ...info }));
}

/** Opens the stream: search results and file notes come first, before any text, then the role. */
function openStream(ctx: ServerContext, r: ChatRequest, meta: Meta, res: ServerResponse, info: SearchInfo | null): SseStream {
  const sse = new SseStream(res, ctx.limits.keepAliveMs);
  if (info) sendInfo(sse, meta, info);
  const delta = ctx.model.reasoning ? { role: 'assistant', content: '', reasoning_content: '' } : { role: 'assistant', content: '' };
  sse.send(
    chunkOf(meta, {
      choices: [{ index: 0, delta, logprobs: r.logprobs ? { content: [] } : null, finish_reason: null }],
      ...(r.includeUsage ? { usage: null } : {}),
    }),
  );
  return sse;
}

/** Streams one generation's text (null: the client is gone, or the stream ended on an error). */
async function streamRound(
  ctx: ServerContext,
  r: ChatRequest,
  gen: Generation,
  out: ChatOutput,
  meta: Meta,
  sse: SseStream,
): Promise<RoundEnd | null> {
  const usageField = r.includeUsage ? { usage: null } : {};
  let pending: ChatLogprob[] = [];
  const chunk = (delta: Record<string, unknown>) => {
    const logprobs = r.logprobs ? { content: pending } : null;
    pending = [];
    sse.send(chunkOf(meta, { choices: [{ index: 0, delta, logprobs, finish_reason: null }], ...usageField }));
  };
  const sendDelta = (d: ChatDelta) => {
    if (d.reasoning) chunk({ reasoning_content: d.reasoning });
    if (d.content) chunk({ content: d.content });
  };
  let reasoningTokens = 0;
  try {
    for await (const e of gen) {
      if (e.token < 0) continue;
      if (out.inReasoning) reasoningTokens++;
      if (e.logprob && r.logprobs) pending.push(chatLogprob(ctx.model, e.token, e.logprob));
      sendDelta(out.push(e.text));
    }
  } catch (e) {
    sse.send(generationError(e).body());
    sse.end();
    return null;
  }
  if (gen.finishReason === 'abort') {
    sse.end();
    return null;
  }
  const { delta, toolCalls } = out.finish();
  sendDelta(delta);
  return { reasoningTokens, logprobs: [], toolCalls };
}

function finishStream(r: ChatRequest, gen: Generation, done: RoundEnd, meta: Meta, sse: SseStream, usage: ChatUsage): void {
  const usageField = r.includeUsage ? { usage: null } : {};
  const { toolCalls } = done;
  const choice = (delta: Record<string, unknown>, finish: FinishReason | null) =>
    sse.send(
      chunkOf(meta, {
        choices: [{ index: 0, delta, logprobs: r.logprobs ? { content: [] } : null, finish_reason: finish }],
        ...usageField,
      }),
    );
  if (toolCalls.length > 0) choice({ tool_calls: toolCalls.map((c, index) => ({ index, ...c })) }, null);
  choice({}, finishReason(gen, toolCalls));
  if (r.includeUsage) sse.send(chunkOf(meta, { choices: [], usage }));
  sse.done();
}
