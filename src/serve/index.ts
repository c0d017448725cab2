/**
 * The serving layer: an OpenAI/DeepSeek-compatible HTTP API and a web chat over any model `dsts`
 * loads, with continuous batching, a prefix cache and structured output. See docs/serving.md.
 */
export { startServer, type ServeOptions, type RunningServer } from './server.ts';
export { loadServedModel, loadServedModels, type ServedModel, type ServedModelOptions, type ServedModelSpec } from './served-model.ts';
export { ModelTable } from './models.ts';
export { Scheduler, QueueFullError, OverloadedError, type EngineRequest, type SchedulerOptions } from './engine/scheduler.ts';
export { Generation, type EngineEvent, type TokenLogprob } from './engine/generation.ts';
export { PrefixCache, type PrefixCacheOptions } from './engine/prefix-cache.ts';
export { ApiError } from './http/errors.ts';
export * from './search/index.ts'; // search and files in chat
