/**
 * The HTTP server (plain `node:http`): routes, the request-source checks (Host, Origin/CORS, JSON
 * bodies, the API key: http/guard.ts), request metrics, and one error path — every failure becomes an
 * OpenAI/DeepSeek-shaped error body, and a bug in one request is logged and answered with a 500 while
 * everyone else keeps being served. Several models can be served at once, each with its own scheduler
 * (models.ts): a request's `model` picks one, and one model's failure stays with its own requests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatCompletions } from './chat/handler.ts';
import { completions } from './completions/handler.ts';
import type { ServerContext, ServerLimits } from './context.ts';
import { Scheduler, type SchedulerOptions } from './engine/scheduler.ts';
import { ApiError } from './http/errors.ts';
import { readJsonObject } from './http/body.ts';
import { bearerMatches, checkRequestSource, requireJson, type GuardOptions } from './http/guard.ts';
import { listen } from './http/listen.ts';
import { ServerMetrics } from './metrics.ts';
import { ModelTable } from './models.ts';
import { getModel, health, listModels } from './routes/info.ts';
import { staticFile } from './routes/static.ts';
import { detokenize, tokenize } from './routes/tokenize.ts';
import type { ServedModel } from './served-model.ts';
import { searchSettings, type SearchOptionsIn } from './search/settings.ts';

/** Every limit applies to each model on its own: each has its own batch, queue and prefix cache. */
export interface ServeOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 8000; 0 picks a free one). */
  port?: number;
  /** Sequences decoded together (default 32). */
  maxBatch?: number;
  /** Requests waiting beyond the batch before 429s (default 256). */
  maxQueue?: number;
  /** Waiting longer than this gives a 503 (default 120 s). */
  queueTimeoutMs?: number;
  /** Largest `max_tokens` (default 8192). */
  maxTokens?: number;
  /** Output tokens when a chat request gives no `max_tokens` (default 4096, capped by the context). */
  defaultMaxTokens?: number;
  /** Largest request body in bytes (default 4 MiB). */
  maxBodyBytes?: number;
  /** A request body must arrive within this long (default 30 s), else 408. */
  bodyTimeoutMs?: number;
  /** Browser origins allowed to call the API (CORS); '*' for any. Default: none (same-origin only). */
  corsOrigins?: string[];
  /** Host names accepted besides the bound address and localhost (a proxy's); '*' disables the check. */
  allowedHosts?: string[];
  /** Stream keep-alive interval in ms (default 10 s; 0 disables). */
  keepAliveMs?: number;
  /** Force `</think>` after this many reasoning tokens (default: no budget). */
  thinkingBudget?: number;
  /** Require `Authorization: Bearer <key>` on /v1 routes. */
  apiKey?: string;
  /** Prompt tokens per prefill step (default 512). */
  prefillChunk?: number;
  /** Prefix cache budget in tokens (default 65,536; 0 disables). */
  prefixCacheTokens?: number;
  /** Serve the web chat at / (default true). */
  webChat?: boolean;
  /** Search for chat requests (docs/serving.md, "Search and files"); closed with the server. */
  search?: SearchOptionsIn;
}

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8000 */
  url: string;
  port: number;
  server: Server;
  /** The default (first) model's context. */
  context: ServerContext;
  /** Every served model's context, the default first. */
  models: ModelTable;
  /** Stops accepting, aborts generations, closes connections. */
  close(): Promise<void>;
}

type Handler = (models: ModelTable, req: IncomingMessage, res: ServerResponse, params: string[]) => Promise<unknown> | unknown;

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  name: string;
  handler: Handler;
  /** Needs the API key when one is set. */
  auth: boolean;
}

const json = (res: ServerResponse, status: number, payload: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
};

function routes(bodyTimeoutMs: number): Route[] {
  // The body is read under the server's limits, then its `model` picks the context that serves it.
  const body = (models: ModelTable, req: IncomingMessage) => {
    requireJson(req);
    return readJsonObject(req, models.default.limits.maxBodyBytes, bodyTimeoutMs);
  };
  const served = async (
    models: ModelTable,
    req: IncomingMessage,
    serve: (ctx: ServerContext, b: Awaited<ReturnType<typeof body>>) => unknown,
  ) => {
    const b = await body(models, req);
    return serve(models.forBody(b), b);
  };
  return [
    {
      method: 'POST',
      path: /^\/v1\/chat\/completions$/,
      name: 'chat',
      auth: true,
      handler: (models, req, res) => served(models, req, (ctx, b) => chatCompletions(ctx, b, res)),
    },
    {
      method: 'POST',
      path: /^\/v1\/completions$/,
      name: 'completions',
      auth: true,
      handler: (models, req, res) => served(models, req, (ctx, b) => completions(ctx, b, res)),
    },
    { method: 'GET', path: /^\/v1\/models$/, name: 'models', auth: true, handler: (models, _q, res) => json(res, 200, listModels(models)) },
    {
      method: 'GET',
      path: /^\/v1\/models\/([^/]+)$/,
      name: 'models',
      auth: true,
      handler: (models, _q, res, p) => json(res, 200, getModel(models, decodeURIComponent(p[0]!))),
    },
    {
      method: 'POST',
      path: /^\/tokenize$/,
      name: 'tokenize',
      auth: true,
      handler: (models, req, res) => served(models, req, (ctx, b) => json(res, 200, tokenize(ctx, b))),
    },
    {
      method: 'POST',
      path: /^\/detokenize$/,
      name: 'detokenize',
      auth: true,
      handler: (models, req, res) => served(models, req, (ctx, b) => json(res, 200, detokenize(ctx, b))),
    },
    { method: 'GET', path: /^\/health$/, name: 'health', auth: false, handler: (models, _q, res) => json(res, 200, health(models)) },
    {
      method: 'GET',
      path: /^\/metrics$/,
      name: 'metrics',
      auth: false,
      handler: (models, _q, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(models.default.metrics.render());
      },
    },
  ];
}

function limitsOf(o: ServeOptions): ServerLimits {
  return {
    maxTokens: o.maxTokens ?? 8192,
    defaultMaxTokens: o.defaultMaxTokens ?? 4096,
    maxBodyBytes: o.maxBodyBytes ?? 4 * 1024 * 1024,
    keepAliveMs: o.keepAliveMs ?? 10_000,
    thinkingBudget: o.thinkingBudget ?? Infinity,
  };
}

function schedulerOptions(model: ServedModel, o: ServeOptions): SchedulerOptions {
  return {
    decoder: model.tokenizer,
    maxBatch: o.maxBatch,
    maxQueue: o.maxQueue,
    queueTimeoutMs: o.queueTimeoutMs,
    prefillChunk: o.prefillChunk,
    maxContext: model.maxContext,
    prefixCache: { maxTokens: o.prefixCacheTokens },
    speculative: model.speculative,
  };
}

/** Wires a model's scheduler events into the metrics (gauges and counters labelled by model). */
function instrument(ctx: ServerContext): void {
  const { metrics: m, scheduler: s } = ctx;
  const model = ctx.model.id;
  m.gauge('dsts_queue_depth', 'Requests waiting for a batch slot.', () => s.queueDepth, { model });
  m.gauge('dsts_running_sequences', 'Sequences in the running batch.', () => s.runningCount, { model });
  m.gauge('dsts_prefix_cache_tokens', 'Tokens held by the prefix cache.', () => s.prefixCache.size, { model });
  s.onStep = (info) => {
    m.step.observe(info.ms / 1000);
    if (info.decoded > 0) m.batch.observe(info.decoded);
    const spec = info.speculation;
    if (spec && spec.drafts > 0) {
      m.specDrafts.inc({}, spec.drafts);
      m.specDraftTokens.inc({}, spec.proposed);
      m.specAcceptedTokens.inc({}, spec.accepted);
      spec.acceptedAt.forEach((n, j) => m.specAcceptedPerPosition.inc({ position: String(j) }, n));
    }
  };
  s.onTokenInterval = (ms) => m.itl.observe(ms / 1000);
  s.onFinish = (g) => {
    m.finished.inc({ model, reason: g.finishReason ?? 'abort' });
    m.generationTokens.inc({ model }, g.completionTokens);
    m.cacheHitTokens.inc({ model }, g.cachedTokens);
    const end = g.finishedAt ?? performance.now();
    m.requestDuration.observe((end - g.queuedAt) / 1000);
    if (g.startedAt !== null) m.queueWait.observe((g.startedAt - g.queuedAt) / 1000);
    if (g.firstTokenAt !== null) m.ttft.observe((g.firstTokenAt - g.queuedAt) / 1000);
  };
}

/**
 * Starts serving one model or several (the first is the default; names must differ); resolves once
 * listening.
 */
export async function startServer(served: ServedModel | readonly ServedModel[], options: ServeOptions = {}): Promise<RunningServer> {
  const list = Array.isArray(served) ? (served as readonly ServedModel[]) : [served as ServedModel];
  const metrics = new ServerMetrics();
  const limits = limitsOf(options);
  const search = options.search ? searchSettings(options.search) : null;
  const models = new ModelTable(
    list.map((model) => ({ model, scheduler: new Scheduler(model.model, schedulerOptions(model, options)), metrics, limits, search })),
  );
  const closeAll = () => {
    models.all.forEach((c) => c.scheduler.close());
    void Promise.resolve(search?.backend.close?.()).catch(() => undefined);
  };
  models.all.forEach(instrument);
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 30_000;
  const table = routes(bodyTimeoutMs);
  const webChat = options.webChat ?? true;
  const host = options.host ?? '127.0.0.1';
  const guard: GuardOptions = {
    host,
    corsOrigins: options.corsOrigins ?? [],
    allowedHosts: options.allowedHosts ?? [],
    apiKey: options.apiKey,
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, seen: { route: string }): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (checkRequestSource(req, res, guard)) {
      seen.route = 'options';
      return;
    }
    if (webChat && req.method === 'GET') {
      const file = staticFile(url.pathname);
      if (file) {
        res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' });
        res.end(file.body);
        seen.route = 'static';
        return;
      }
    }
    const matches = table.filter((r) => r.path.test(url.pathname));
    if (matches.length === 0) throw new ApiError(404, `no route for ${req.method} ${url.pathname}`, 'not_found');
    const route = matches.find((r) => r.method === req.method);
    seen.route = matches[0]!.name;
    if (!route) {
      res.setHeader('allow', [...new Set(matches.map((r) => r.method))].join(', '));
      throw new ApiError(405, `${req.method} is not allowed on ${url.pathname}`, 'method_not_allowed');
    }
    if (route.auth && options.apiKey !== undefined && !bearerMatches(req.headers.authorization, options.apiKey)) {
      throw new ApiError(401, 'invalid or missing API key (Authorization: Bearer <key>)', 'invalid_api_key');
    }
    await route.handler(models, req, res, route.path.exec(url.pathname)!.slice(1));
  };

  const server = createServer((req, res) => {
    const seen = { route: 'unknown' };
    handle(req, res, seen)
      .catch((e: unknown) => {
        const err = e instanceof ApiError ? e : new ApiError(500, 'internal server error', 'internal_error');
        if (!(e instanceof ApiError)) console.error('deepseek-ts serve: request failed:', e);
        if (!res.headersSent) {
          // A refused body may still be arriving: close the connection rather than read it all.
          if (err.status === 413 || err.status === 408 || err.status === 415) res.setHeader('connection', 'close');
          for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
          json(res, err.status, err.body());
        } else if (!res.writableEnded) {
          res.end();
        }
      })
      .finally(() => metrics.requests.inc({ route: seen.route, status: String(res.statusCode) }));
  });
  // Slow or idle clients must not hold sockets forever. Node's requestTimeout covers receiving the
  // request only (a long streamed answer is not cut); readBody's own timeout answers a 408 first.
  server.headersTimeout = 30_000;
  server.requestTimeout = server.headersTimeout + bodyTimeoutMs + 5_000;

  try {
    await listen(server, host, options.port ?? 8000);
  } catch (e) {
    closeAll();
    throw e;
  }
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}`,
    port: addr.port,
    server,
    context: models.default,
    models,
    close: () =>
      new Promise<void>((resolve) => {
        closeAll();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
