/**
 * The models one server serves, each with its own scheduler (its own batch, queue and cache), chosen
 * by the `model` a request names. The first is the default: what /health names and what the routes
 * whose `model` is optional (/tokenize, /detokenize) use.
 */
import type { ServerContext } from './context.ts';
import { ApiError } from './http/errors.ts';
import type { Json } from './http/validate.ts';

export class ModelTable {
  private readonly byId = new Map<string, ServerContext>();

  constructor(readonly all: readonly ServerContext[]) {
    if (all.length === 0) throw new Error('a server needs at least one model');
    for (const ctx of all) {
      if (this.byId.has(ctx.model.id)) throw new Error(`two models are served as '${ctx.model.id}': give each its own name`);
      this.byId.set(ctx.model.id, ctx);
    }
  }

  get default(): ServerContext {
    return this.all[0]!;
  }

  get ids(): string[] {
    return this.all.map((c) => c.model.id);
  }

  /** The model named `id`, else a 404 that lists the served ones (OpenAI's `model_not_found`). */
  get(id: string): ServerContext {
    const ctx = this.byId.get(id);
    if (ctx) return ctx;
    const names = this.ids.map((n) => `'${n}'`).join(', ');
    throw new ApiError(404, `the model '${id}' does not exist; this server serves ${names}`, 'model_not_found', 'model');
  }

  /**
   * The model a request body names. A missing or non-string `model` goes to the default model, whose
   * handler then refuses it with the usual parameter error (or, where `model` is optional, serves it).
   */
  forBody(body: Json): ServerContext {
    const id = body.model;
    return typeof id === 'string' ? this.get(id) : this.default;
  }
}
