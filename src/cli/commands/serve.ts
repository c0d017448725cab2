/** `dsts serve`: the OpenAI/DeepSeek-compatible API and the web chat for one or several model folders. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../command.ts';
import { numberFlag, parse, quantizeFlag, quantizeOption, speculativeFlag, speculativeOption } from '../args.ts';
import { MAX_DRAFT_TOKENS } from '../../generate/index.ts';
import { UserError } from '../errors.ts';
import { loadServedModels, openSearchBackend, SEARCH_BACKENDS, startServer } from '../../serve/index.ts';
import { MODELS_DIR, modelsIn, parseModelFlags } from '../served-models.ts';
import { exposureWarning } from '../../serve/http/guard.ts';
import { checkPort } from '../../serve/http/listen.ts';
import type { SearchOptionsIn } from '../../serve/search/settings.ts';

/** The model shipped with the project, used when no --model is given. */
export const EMBEDDED_MODEL = fileURLToPath(new URL('../../../models/deepseek-ts-nano', import.meta.url));

/** Whether the embedded model has been trained and saved (its folder may exist, empty, before). */
export function embeddedModelReady(): boolean {
  return ['config.json', 'tokenizer.json'].every((f) => existsSync(join(EMBEDDED_MODEL, f)));
}

const usage = `usage: dsts serve [--model [<name>=]<dir>]... [--host <addr>] [--port <n>] [options]

Serves models over HTTP: the OpenAI/DeepSeek-compatible API under /v1 and a web chat at /. With
several models, a request's "model" picks one (GET /v1/models lists them); each has its own batch,
queue and prefix cache, and the limits below apply to each.

options:
  --model [<name>=]<dir> HF model folder: config.json, *.safetensors, tokenizer.json, tokenizer_config.json,
                         served as <name> (default: the folder's name). Repeat it to serve several;
                         the first is the default model
  --models-dir <dir>     without --model: serve every folder of <dir> holding a config.json, by name
                         (default: the project's models/, so deepseek-ts-nano first)
  --host <addr>          interface to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --port <n>             port (default 8000; 0 picks a free one)
  --name <id>            the name of the one --model (same as --model <id>=<dir>)
  --max-batch <n>        sequences decoded together, per model (default 32)
  --max-queue <n>        requests waiting beyond a model's batch before 429 (default 256)
  --max-tokens <n>       largest max_tokens a request may ask for (default 8192)
  --max-context <n>      cap on prompt + output tokens (default: the model's max_position_embeddings)
  --thinking-budget <n>  force </think> after n reasoning tokens (default: none)
  --prefix-cache-tokens <n>  tokens of finished prompts kept for reuse (default 65536; 0 disables;
                         memory: n × the model's cache bytes per token, see docs/serving.md)
  --api-key <key>        require "Authorization: Bearer <key>" on the API routes
  --cors-origin <url>    let a web page on this origin call the API (repeatable; '*' for any).
                         Default: only the server's own pages (the web chat)
  --allowed-host <name>  accept requests addressed to this host name too (a reverse proxy's;
                         repeatable; '*' turns the check off). Default: the bound address and localhost
  --no-web               API only, no web chat
  --quantize <scheme>    quantise weights while loading: q8, q4 or fp8 (see dsts generate --help)
  --speculative mtp      speculative decoding: the model's MTP module drafts, one forward verifies
                         (lossless; pays at small batches; needs MTP weights; docs/serving.md)
  --draft-tokens <k>     draft tokens per step with --speculative (default 1, at most ${MAX_DRAFT_TOKENS})

search (DeepSeek's search and file prompts; docs/serving.md, "Search and files"):
  --search <backend>     let chats search: 'local' (a folder of documents) or 'searxng' (a SearXNG instance)
  --search-dir <dir>     local: the folder of .txt/.md/.html documents (indexed, kept up to date as files change)
  --search-cache <dir>   local: where the index is saved (default ~/.cache/deepseek-ts/search)
  --searxng-url <url>    searxng: the instance's base URL (its settings.yml must allow format json)
  --search-default <on|off>  search when a request does not say (default off)
  --search-timeout <ms>  a search taking longer is dropped and the chat answers without it (default 10000)
  --search-results <n>   results asked of the backend per search (default 8)`;

/** The search flags → the server's search options (the backend opened: a local folder is indexed now). */
async function searchFlags(
  values: Record<string, unknown>,
  int: (name: string, v: string | undefined) => number | undefined,
): Promise<SearchOptionsIn | undefined> {
  const name = values.search as string | undefined;
  const related = ['search-dir', 'search-cache', 'searxng-url', 'search-default', 'search-timeout', 'search-results'];
  if (name === undefined) {
    const stray = related.find((k) => values[k] !== undefined);
    if (stray) throw new UserError(`--${stray} needs --search <${SEARCH_BACKENDS.join('|')}>`);
    return undefined;
  }
  if (!(SEARCH_BACKENDS as readonly string[]).includes(name))
    throw new UserError(`--search expects one of ${SEARCH_BACKENDS.join(', ')}, got '${name}'`);
  const onOff = values['search-default'] as string | undefined;
  if (onOff !== undefined && onOff !== 'on' && onOff !== 'off') throw new UserError(`--search-default expects on or off, got '${onOff}'`);
  const timeoutMs = int('search-timeout', values['search-timeout'] as string | undefined);
  const maxResults = int('search-results', values['search-results'] as string | undefined);
  if (timeoutMs === 0) throw new UserError('--search-timeout must be at least 1 ms');
  if (maxResults === 0 || (maxResults ?? 0) > 50) throw new UserError('--search-results expects 1 to 50');
  let backend;
  try {
    backend = await openSearchBackend(name, {
      dir: values['search-dir'] as string | undefined,
      cacheDir: values['search-cache'] as string | undefined,
      url: values['searxng-url'] as string | undefined,
    });
  } catch (e) {
    throw new UserError((e as Error).message);
  }
  return { backend, default: onOff === 'on', timeoutMs, maxResults };
}

const command: Command = {
  summary: 'serve a model: OpenAI/DeepSeek-compatible API and web chat',
  usage,
  async run(args) {
    const { values } = parse(args, {
      model: { type: 'string', multiple: true },
      'models-dir': { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      name: { type: 'string' },
      'max-batch': { type: 'string' },
      'max-queue': { type: 'string' },
      'max-tokens': { type: 'string' },
      'max-context': { type: 'string' },
      'thinking-budget': { type: 'string' },
      'prefix-cache-tokens': { type: 'string' },
      'api-key': { type: 'string' },
      'cors-origin': { type: 'string', multiple: true },
      'allowed-host': { type: 'string', multiple: true },
      'no-web': { type: 'boolean' },
      search: { type: 'string' },
      'search-dir': { type: 'string' },
      'search-cache': { type: 'string' },
      'searxng-url': { type: 'string' },
      'search-default': { type: 'string' },
      'search-timeout': { type: 'string' },
      'search-results': { type: 'string' },
      ...quantizeOption,
      ...speculativeOption,
    });
    const int = (name: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      const n = numberFlag(v, name, 0);
      if (!Number.isInteger(n) || n < 0) throw new UserError(`--${name} expects a whole number ≥ 0, got '${v}'`);
      return n;
    };
    // Flags are checked before the (possibly large) model is loaded.
    const maxContext = int('max-context', values['max-context']);
    const quantize = quantizeFlag(values.quantize);
    const speculative = speculativeFlag(values);
    const options = {
      host: values.host,
      port: int('port', values.port),
      maxBatch: int('max-batch', values['max-batch']),
      maxQueue: int('max-queue', values['max-queue']),
      maxTokens: int('max-tokens', values['max-tokens']),
      thinkingBudget: int('thinking-budget', values['thinking-budget']),
      prefixCacheTokens: int('prefix-cache-tokens', values['prefix-cache-tokens']),
      apiKey: values['api-key'],
      corsOrigins: values['cors-origin'],
      allowedHosts: values['allowed-host'],
      webChat: values['no-web'] !== true,
    };
    if (options.port !== undefined) checkPort(options.port);
    for (const o of options.corsOrigins ?? []) {
      if (o !== '*' && !/^https?:\/\/[^/]+$/.test(o))
        throw new UserError(`--cors-origin expects an origin such as https://example.com (scheme and host, no path), got '${o}'`);
    }
    if (values.model === undefined && values.name !== undefined) throw new UserError('--name needs a --model to name');
    if (values.model !== undefined && values['models-dir'] !== undefined) throw new UserError('give --model or --models-dir, not both');
    const search = await searchFlags(values, int);
    const specs = values.model !== undefined ? parseModelFlags(values.model, values.name) : modelsIn(values['models-dir'] ?? MODELS_DIR);
    let server;
    let models;
    try {
      models = loadServedModels(specs, { maxContext, quantize, speculative });
      server = await startServer(models, { ...options, search });
    } catch (e) {
      await search?.backend.close?.();
      throw e;
    }
    const warning = exposureWarning(options.host ?? '127.0.0.1', options.apiKey);
    if (warning) console.error(`deepseek-ts: ${warning}`);
    for (const [i, model] of models.entries()) {
      const role = models.length > 1 && i === 0 ? ', the default' : '';
      console.log(`deepseek-ts: serving '${model.id}' (${model.config.modelType}, context ${model.maxContext}${role}) from ${model.dir}`);
    }
    if (speculative) console.log(`  speculative decoding: MTP drafts ${speculative.draftTokens ?? 1} token(s) per step`);
    if (search) console.log(`  search    ${search.backend.name}${search.default ? ' (on by default)' : ''}`);
    if (values['no-web'] !== true) console.log(`  web chat  ${server.url}/`);
    console.log(`  API       ${server.url}/v1  (POST /v1/chat/completions, /v1/completions; GET /v1/models, /health, /metrics)`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        console.log('deepseek-ts: shutting down');
        void server.close().then(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
};

export default command;
