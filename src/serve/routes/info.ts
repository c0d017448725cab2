/** `GET /v1/models`, `GET /health`: what is served and whether it is up. */
import type { ServerContext } from '../context.ts';
import type { ModelTable } from '../models.ts';

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

/** Every served model, the default first. */
export function listModels(models: ModelTable) {
  return { object: 'list', data: models.all.map(modelCard) };
}

export function getModel(models: ModelTable, id: string) {
  return modelCard(models.get(id));
}

/** `model` is the default model; `models` gives each model's batch and queue. */
export function health(models: ModelTable) {
  const each = models.all.map((c) => ({ id: c.model.id, running: c.scheduler.runningCount, waiting: c.scheduler.queueDepth }));
  return {
    status: 'ok',
    model: models.default.model.id,
    running: each.reduce((a, m) => a + m.running, 0),
    waiting: each.reduce((a, m) => a + m.waiting, 0),
    models: each,
    // The web chat shows its search toggle when a backend is there.
    search: models.default.search ? { backend: models.default.search.backend.name, default: models.default.search.defaultOn } : null,
  };
}
