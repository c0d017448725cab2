/**
 * A running `dsts serve` on the tiny chat model, bound to 127.0.0.1 on an ephemeral port, for
 * end-to-end tests. The model folder is built once per test file and shared; servers and
 * folders are removed after the file's tests.
 */
import { after } from 'node:test';
import { loadServedModel, startServer, type RunningServer, type ServeOptions, type ServedModel } from '../../src/serve/index.ts';
import { PATIENCE_MS } from '../helpers/patience.ts';
import { buildTinyChatModel, type TinyChatModel, type TinyChatModelOptions } from '../helpers/tiny-chat-model.ts';

const built = new Map<string, TinyChatModel>();
const servers: RunningServer[] = [];

// Registered when the test file imports this module, so it runs once, after all its tests (an
// `after` called inside a `before` hook would run as soon as that hook ends).
after(async () => {
  for (const s of servers) await s.close();
  for (const m of built.values()) m.dispose();
});

/** The tiny model's folder for a template flavour (built on first use, deleted when the tests end). */
export function tinyModelDir(template: TinyChatModelOptions['template'] = 'r1', context?: number): string {
  const key = `${template}:${context ?? ''}`;
  let m = built.get(key);
  if (!m) {
    m = buildTinyChatModel({ template, context });
    built.set(key, m);
  }
  return m.dir;
}

export interface TinyServerOptions extends Omit<ServeOptions, 'host' | 'port'> {
  template?: TinyChatModelOptions['template'];
  name?: string;
  /** Serve several tiny models, in order (the first is the default), instead of `template`/`name`. */
  models?: { template: TinyChatModelOptions['template']; name: string }[];
  /**
   * Makes every model step take at least this long (a busy wait before the forward), so tests
   * about timing — a request outlasting a queue timeout — hold however fast the machine is.
   */
  minStepMs?: number;
  /** The tiny model's context (default its 512 tokens; search prompts need a few thousand). */
  context?: number;
}

/** Each server's minimum step time, changeable while it runs (`pace`). */
const minStep = new WeakMap<RunningServer, { ms: number }>();
/** Whether each server's models may end a sequence, changeable while it runs (`endless`). */
const eosMask = new WeakMap<RunningServer, { on: boolean }>();

/** Wraps a model's forward with the server's pace and end-of-sequence mask. */
function instrument(model: ServedModel, step: { ms: number }, mask: { on: boolean }): void {
  const lm = model.model;
  const forward = lm.forward.bind(lm);
  lm.forward = (ids, opts) => {
    const until = performance.now() + step.ms;
    while (performance.now() < until);
    const out = forward(ids, opts);
    if (mask.on && out.logits) {
      // The head's product is a fresh contiguous float32 tensor: its rows are masked in place.
      if (!out.logits.isContiguous() || out.logits.offset !== 0) throw new Error('expected fresh logits');
      const logits = out.logits.data as Float32Array;
      const V = out.logits.shape.at(-1)!;
      for (let row = 0; row < logits.length; row += V) for (const eos of model.eosIds) logits[row + eos] = -Infinity;
    }
    return out;
  };
}

/** Starts a server (closed automatically after the test file). The model is served as 'tiny'. */
export async function startTinyServer(options: TinyServerOptions = {}): Promise<RunningServer> {
  const { template, name, models: several, minStepMs, context, ...serve } = options;
  const specs = several ?? [{ template, name: name ?? 'tiny' }];
  const models = specs.map((m) => loadServedModel(tinyModelDir(m.template, context), { name: m.name }));
  const step = { ms: minStepMs ?? 0 };
  const mask = { on: false };
  for (const m of models) instrument(m, step, mask);
  const server = await startServer(models, { host: '127.0.0.1', port: 0, keepAliveMs: 0, ...serve });
  minStep.set(server, step);
  eosMask.set(server, mask);
  servers.push(server);
  return server;
}

/**
 * Sets the minimum time of each model step of a running server (see `minStepMs`): a test that must
 * act while a generation is still running slows it down for its own duration only.
 */
export function pace(server: RunningServer, ms: number): void {
  minStep.get(server)!.ms = ms;
}

/**
 * Makes a running server's models never choose an end-of-sequence token (on) or lets it again (off): a
 * test that must act on a running generation keeps the random tiny model from ending it by chance.
 */
export function endless(server: RunningServer, on: boolean): void {
  eosMask.get(server)!.on = on;
}

/** POSTs JSON (or a raw body) and returns the status and parsed JSON response. */
export async function postJson(
  url: string,
  body: unknown,
  init: RequestInit = {},
): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(PATIENCE_MS), // a hang guard only
    ...init,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

/** Reads a server-sent-events response: the `data:` payloads (parsed, `[DONE]` as a string) and comment lines. */
export async function readSse(res: Response): Promise<{ events: any[]; comments: string[] }> {
  const text = await res.text();
  const events: any[] = [];
  const comments: string[] = [];
  for (const block of text.split('\n\n')) {
    for (const line of block.split('\n')) {
      if (line.startsWith('data: ')) {
        const d = line.slice(6);
        events.push(d === '[DONE]' ? d : JSON.parse(d));
      } else if (line.startsWith(':')) comments.push(line);
    }
  }
  return { events, comments };
}
