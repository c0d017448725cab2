/**
 * `POST /v1/completions`: raw text (or token ids) in, continuation out — or, with `suffix`, the
 * middle between prompt and suffix (fill-in-the-middle, when the model has FIM tokens).
 */
import { predictionTokens } from '../speculation-usage.ts';
import type { ServerResponse } from 'node:http';
import { requestSampling, checkTextLength, generationError, outputBudget, startGeneration, type ServerContext } from '../context.ts';
import type { Generation } from '../engine/generation.ts';
import { ApiError } from '../http/errors.ts';
import { SseStream } from '../http/sse.ts';
import type { Json } from '../http/validate.ts';
import { SYSTEM_FINGERPRINT, responseId, unixNow } from '../ids.ts';
import { addCompletionLogprob, emptyCompletionLogprobs, type CompletionLogprobs } from '../logprobs.ts';
import { parseCompletionRequest, type CompletionRequest } from './request.ts';

function promptIds(ctx: ServerContext, r: CompletionRequest): number[] {
  const tok = ctx.model.tokenizer;
  if (r.suffix !== null) {
    if (!ctx.model.fim)
      throw new ApiError(
        422,
        `model '${ctx.model.id}' has no fill-in-the-middle tokens: 'suffix' is not supported`,
        'fim_not_supported',
        'suffix',
      );
    if (typeof r.prompt !== 'string') throw new ApiError(422, "'suffix' needs a text 'prompt'", 'invalid_parameter', 'prompt');
    return tok.encode(ctx.model.fim.render(r.prompt, r.suffix), { addSpecialTokens: true });
  }
  return typeof r.prompt === 'string' ? tok.encode(r.prompt, { addSpecialTokens: true }) : r.prompt;
}

function usage(gen: Generation) {
  return {
    prompt_tokens: gen.promptTokens,
    completion_tokens: gen.completionTokens,
    total_tokens: gen.promptTokens + gen.completionTokens,
    prompt_cache_hit_tokens: gen.cachedTokens,
    prompt_cache_miss_tokens: gen.promptTokens - gen.cachedTokens,
    ...(gen.speculation ? { completion_tokens_details: predictionTokens(gen) } : {}),
  };
}

export async function completions(ctx: ServerContext, body: Json, res: ServerResponse): Promise<void> {
  const r = parseCompletionRequest(body, { maxTokens: ctx.limits.maxTokens, vocabSize: ctx.model.model.vocabSize });
  checkTextLength(ctx, r.prompt.length + (r.suffix?.length ?? 0), 'prompt');
  const ids = promptIds(ctx, r);
  const maxTokens = outputBudget(ctx, ids.length, r.maxTokens);
  const gen = startGeneration(
    ctx,
    {
      prompt: ids,
      maxTokens,
      sampling: requestSampling(ctx, r.sampling),
      stopTokenIds: r.ignoreEos ? [] : ctx.model.eosIds,
      stop: r.stop,
      logprobs: r.logprobs,
      logitBias: r.logitBias,
    },
    res,
  );
  const echoText = r.echo ? (typeof r.prompt === 'string' ? r.prompt : ctx.model.tokenizer.decode(r.prompt)) : '';
  const meta = {
    id: responseId('cmpl'),
    object: 'text_completion',
    created: unixNow(),
    model: ctx.model.id,
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
  const reason = () => (gen.finishReason === 'length' ? 'length' : 'stop');

  if (!r.stream) {
    let text = echoText;
    const lp = emptyCompletionLogprobs();
    try {
      for await (const e of gen) {
        if (e.token < 0) continue;
        if (e.logprob) addCompletionLogprob(lp, ctx.model, e.token, e.logprob, text.length);
        text += e.text;
      }
    } catch (e) {
      throw generationError(e);
    }
    if (gen.finishReason === 'abort') return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        ...meta,
        choices: [{ index: 0, text, logprobs: r.logprobs === undefined ? null : lp, finish_reason: reason() }],
        usage: usage(gen),
      }),
    );
    return;
  }

  const sse = new SseStream(res, ctx.limits.keepAliveMs);
  const usageField = r.includeUsage ? { usage: null } : {};
  let offset = 0;
  let pending: CompletionLogprobs = emptyCompletionLogprobs();
  const chunk = (text: string, finish: string | null = null) => {
    const logprobs = r.logprobs === undefined ? null : pending;
    pending = emptyCompletionLogprobs();
    sse.send({ ...meta, choices: [{ index: 0, text, logprobs, finish_reason: finish }], ...usageField });
  };
  if (echoText) {
    chunk(echoText);
    offset = echoText.length;
  }
  try {
    for await (const e of gen) {
      if (e.token < 0) continue;
      if (e.logprob) addCompletionLogprob(pending, ctx.model, e.token, e.logprob, offset);
      offset += e.text.length;
      if (e.text) chunk(e.text);
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
  chunk('', reason());
  if (r.includeUsage) sse.send({ ...meta, choices: [], usage: usage(gen) });
  sse.done();
}
