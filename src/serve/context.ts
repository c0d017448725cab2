/**
 * What every route handler gets: the model the request chose (models.ts), that model's own scheduler,
 * the server's metrics and limits, plus the shared step of starting a generation (queue errors → 429 /
 * 503, a client that goes away → cancelled generation).
 */
import type { ServerResponse } from 'node:http';
import type { ServedModel } from './served-model.ts';
import { mergeSampling, type SamplingParams } from '../generate/index.ts';
import { OverloadedError, QueueFullError, type EngineRequest, type Scheduler } from './engine/scheduler.ts';
import type { Generation } from './engine/generation.ts';
import type { ServerMetrics } from './metrics.ts';
import { ApiError } from './http/errors.ts';
import type { SearchSettings } from './search/settings.ts';

export interface ServerLimits {
  /** Largest `max_tokens` a request may ask for. */
  maxTokens: number;
  /** Tokens generated when a request gives no `max_tokens` (still capped by the context). */
  defaultMaxTokens: number;
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Keep-alive comment interval of streams, ms (0: none). */
  keepAliveMs: number;
  /** Reasoning tokens after which `</think>` is forced (Infinity: no budget). */
  thinkingBudget: number;
}

export interface ServerContext {
  model: ServedModel;
  scheduler: Scheduler;
  metrics: ServerMetrics;
  limits: ServerLimits;
  /** The server's search backend and defaults (null: no search). */
  search: SearchSettings | null;
}

/**
 * Refuses text that cannot fit the context before tokenizing it: a multi-megabyte prompt would
 * otherwise hold the event loop (and every stream) while it is encoded, only to be refused. No
 * tokenizer averages anywhere near 32 characters per token.
 */
export function checkTextLength(ctx: ServerContext, chars: number, param: string): void {
  if (chars > ctx.model.maxContext * 32) {
    throw new ApiError(
      422,
      `the input (${chars} characters) is far longer than this model's context of ${ctx.model.maxContext} tokens`,
      'context_length_exceeded',
      param,
    );
  }
}

/**
 * Room left for output: `requested` (or the default) capped by the context. A prompt that leaves no
 * room is a 422.
 */
export function outputBudget(ctx: ServerContext, promptTokens: number, requested: number | null): number {
  const room = ctx.model.maxContext - promptTokens;
  if (room < 1) {
    throw new ApiError(
      422,
      `the prompt has ${promptTokens} tokens, which leaves no room in this model's context of ${ctx.model.maxContext} tokens`,
      'context_length_exceeded',
      'messages',
    );
  }
  return Math.min(requested ?? ctx.limits.defaultMaxTokens, room);
}

/** A request's sampling over the model's defaults (generation_config.json, or R1's for R1 templates). */
export function requestSampling(ctx: ServerContext, asked: SamplingParams): SamplingParams {
  return mergeSampling(ctx.model.sampling, asked);
}

/** Adds `Retry-After`, so clients back off rather than retry at once (a queue drains in seconds). */
function retryLater(e: ApiError): ApiError {
  e.headers['retry-after'] = '1';
  return e;
}

/** Queues a generation, cancelled when the client disconnects. */
export function startGeneration(ctx: ServerContext, req: EngineRequest, res: ServerResponse): Generation {
  let gen: Generation;
  try {
    gen = ctx.scheduler.submit(req);
  } catch (e) {
    if (e instanceof QueueFullError) throw retryLater(new ApiError(429, `${e.message}; retry later`, 'queue_full'));
    if (e instanceof OverloadedError) throw retryLater(new ApiError(503, e.message, 'overloaded'));
    if (e instanceof RangeError) throw new ApiError(422, e.message, 'invalid_prompt', 'prompt');
    throw e;
  }
  ctx.metrics.promptTokens.inc({ model: ctx.model.id }, req.prompt.length);
  res.on('close', () => {
    if (!res.writableFinished) gen.cancel();
  });
  return gen;
}

/** A generation failure as an API error (overload → 503, anything else → 500). */
export function generationError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof OverloadedError) return retryLater(new ApiError(503, e.message, 'overloaded'));
  return new ApiError(500, `generation failed: ${(e as Error)?.message ?? String(e)}`, 'internal_error');
}
