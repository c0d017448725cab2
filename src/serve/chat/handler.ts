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
import { buildChatPrompt } from './prompt.ts';
import { parseChatRequest, type ChatRequest } from './request.ts';
import type { ParsedToolCall } from './tool-dialects.ts';
import { prepareSearch, type SearchInfo } from '../search/chat.ts';

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
  const { messages, info } = await prepareSearch(ctx, r, gone.signal);
  if (gone.signal.aborted) return; // the client left during the search
  const prompt = buildChatPrompt(ctx.model, messages, r.tools);
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
  const out = new ChatOutput(plan.output);
  const meta = { id: responseId('chatcmpl'), created: unixNow(), model: ctx.model.id };
  if (r.stream) await streamChat(ctx, r, gen, out, meta, res, info);
  else await answerChat(ctx, r, gen, out, meta, res, info);
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

async function answerChat(
  ctx: ServerContext,
  r: ChatRequest,
  gen: Generation,
  out: ChatOutput,
  meta: Meta,
  res: ServerResponse,
  info: SearchInfo | null,
): Promise<void> {
  const logprobs: ChatLogprob[] = [];
  let reasoningTokens = 0;
  try {
    for await (const e of gen) {
      if (e.token < 0) continue;
      if (out.inReasoning) reasoningTokens++;
      if (e.logprob) logprobs.push(chatLogprob(ctx.model, e.token, e.logprob));
      out.push(e.text);
    }
  } catch (e) {
    throw generationError(e);
  }
  if (gen.finishReason === 'abort') return; // the client is gone
  const { toolCalls } = out.finish();
  const message: Record<string, unknown> = { role: 'assistant', content: out.content === '' && toolCalls.length > 0 ? null : out.content };
  if (ctx.model.reasoning) message.reasoning_content = out.reasoning;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const payload = {
    ...meta,
    object: 'chat.completion',
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, message, logprobs: r.logprobs ? { content: logprobs } : null, finish_reason: finishReason(gen, toolCalls) }],
    usage: chatUsage(gen, reasoningTokens),
    ...info,
  };
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

async function streamChat(
  ctx: ServerContext,
  r: ChatRequest,
  gen: Generation,
  out: ChatOutput,
  meta: Meta,
  res: ServerResponse,
  info: SearchInfo | null,
): Promise<void> {
  const sse = new SseStream(res, ctx.limits.keepAliveMs);
  // Search results and file notes come first, before any text, in a chunk without choices.
  if (info) sse.send({ ...meta, object: 'chat.completion.chunk', system_fingerprint: SYSTEM_FINGERPRINT, choices: [], ...info });
  const usageField = r.includeUsage ? { usage: null } : {};
  let pending: ChatLogprob[] = [];
  const chunk = (delta: Record<string, unknown>, finish: FinishReason | null = null) => {
    const logprobs = r.logprobs ? { content: pending } : null;
    pending = [];
    sse.send({
      ...meta,
      object: 'chat.completion.chunk',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [{ index: 0, delta, logprobs, finish_reason: finish }],
      ...usageField,
    });
  };
  const sendDelta = (d: ChatDelta) => {
    if (d.reasoning) chunk({ reasoning_content: d.reasoning });
    if (d.content) chunk({ content: d.content });
  };
  chunk(ctx.model.reasoning ? { role: 'assistant', content: '', reasoning_content: '' } : { role: 'assistant', content: '' });
  let reasoningTokens = 0;
  try {
    for await (const e of gen) {
      if (e.token < 0) continue;
      if (out.inReasoning) reasoningTokens++;
      if (e.logprob) pending.push(chatLogprob(ctx.model, e.token, e.logprob));
      sendDelta(out.push(e.text));
    }
  } catch (e) {
    sse.send(generationError(e).body());
    sse.end();
    return;
  }
  if (gen.finishReason === 'abort') {
    sse.end();
    return;
  }
  const { delta, toolCalls } = out.finish();
  sendDelta(delta);
  if (toolCalls.length > 0) chunk({ tool_calls: toolCalls.map((c, index) => ({ index, ...c })) });
  chunk({}, finishReason(gen, toolCalls));
  if (r.includeUsage) {
    sse.send({
      ...meta,
      object: 'chat.completion.chunk',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [],
      usage: chatUsage(gen, reasoningTokens),
    });
  }
  sse.done();
}
