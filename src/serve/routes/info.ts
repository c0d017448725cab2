/** `GET /v1/models`, `GET /health`: what is served and whether it is up. */
import type { ServerContext } from '../context.ts';
import { ApiError } from '../http/errors.ts';

function modelCard(ctx: ServerContext) {
  // max_model_len is vLLM's field; max_output_tokens is the largest max_tokens this server accepts.
  return {
    id: ctx.model.id,
    object: 'model',
    created: ctx.model.created,
    owned_by: 'deepseek-ts',
    max_model_len: ctx.model.maxContext,
    max_output_tokens: ctx.limits.maxTokens,
  };
}

export function listModels(ctx: ServerContext) {
  return { object: 'list', data: [modelCard(ctx)] };
}

export function getModel(ctx: ServerContext, id: string) {
  if (id !== ctx.model.id) throw new ApiError(404, `the model '${id}' does not exist`, 'model_not_found', 'model');
  return modelCard(ctx);
}

export function health(ctx: ServerContext) {
  return { status: 'ok', model: ctx.model.id, running: ctx.scheduler.runningCount, waiting: ctx.scheduler.queueDepth };
}
