/**
 * `POST /v1/chat/completions` request bodies → a validated `ChatRequest`. Field names, types and
 * ranges follow OpenAI's and DeepSeek's APIs; a few vLLM-style extensions (`top_k`, `min_p`,
 * `repetition_penalty`, `ignore_eos`) are accepted too. Anything else is refused with a 422 naming it.
 */
import type { SamplingParams } from '../../generate/index.ts';
import { invalidParam } from '../http/errors.ts';
import { Fields, objectAt, type Json } from '../http/validate.ts';
import type { FileInput } from '../search/assemble.ts';
import { parseFilesField, parseSearchField, SEARCH_FIELDS, type SearchAsk } from '../search/request.ts';

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A message after validation: content is plain text (text parts joined). */
export interface ChatMessageIn {
  role: Role;
  content: string | null;
  name?: string;
  toolCalls?: ChatToolCall[];
  toolCallId?: string;
  /** DeepSeek chat prefix completion: continue this (last, assistant) message. */
  prefix?: boolean;
  /** Given with a prefix message of a reasoning model: the reasoning to continue from. */
  reasoningContent?: string;
}

export interface ToolSpec {
  type: 'function';
  function: { name: string; description?: string; parameters?: Json; strict?: boolean };
}

export type ToolChoice = 'none' | 'auto' | 'required' | { name: string };

export interface ChatRequest {
  model: string;
  messages: ChatMessageIn[];
  stream: boolean;
  includeUsage: boolean;
  /** null: as many as the context allows, up to the server's limit. */
  maxTokens: number | null;
  sampling: SamplingParams;
  stop: string[];
  jsonMode: boolean;
  tools: ToolSpec[];
  toolChoice: ToolChoice;
  logprobs: boolean;
  topLogprobs: number;
  logitBias: Map<number, number>;
  ignoreEos: boolean;
  /** Search (docs/serving.md, "Search and files"): undefined → the server's default; false → off. */
  search: SearchAsk | false | undefined;
  /** Files wrapped around the last user message. */
  files: FileInput[];
}

export const CHAT_FIELDS = [
  'model',
  'messages',
  'stream',
  'stream_options',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'response_format',
  'tools',
  'tool_choice',
  'logprobs',
  'top_logprobs',
  'n',
  'user',
  'logit_bias',
  'parallel_tool_calls',
  'top_k',
  'min_p',
  'repetition_penalty',
  'ignore_eos',
  'metadata',
  'store',
  ...SEARCH_FIELDS,
] as const;

const MESSAGE_FIELDS = ['role', 'content', 'name', 'tool_calls', 'tool_call_id', 'prefix', 'reasoning_content'];
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Sampling and output-shape fields shared with /v1/completions. */
export function samplingFields(f: Fields, maxTokensLimit: number): { sampling: SamplingParams; maxTokens: number | null } {
  // Both are checked; `max_completion_tokens` (OpenAI's current name) wins over the deprecated one.
  const legacy = f.number('max_tokens', 1, maxTokensLimit, { integer: true });
  const maxTokens = f.number('max_completion_tokens', 1, maxTokensLimit, { integer: true }) ?? legacy ?? null;
  const seed = f.number('seed', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, { integer: true });
  const sampling: SamplingParams = {
    // Left out: the model's defaults fill it in (context.ts requestSampling), then temperature 1.
    temperature: f.number('temperature', 0, 2),
    topP: f.number('top_p', 0, 1, { exclusiveMin: true }),
    topK: f.number('top_k', -1, 1_000_000, { integer: true }),
    minP: f.number('min_p', 0, 1),
    repetitionPenalty: f.number('repetition_penalty', 0, 10, { exclusiveMin: true }),
    frequencyPenalty: f.number('frequency_penalty', -2, 2),
    presencePenalty: f.number('presence_penalty', -2, 2),
    seed: seed === undefined ? undefined : seed >>> 0,
  };
  if (sampling.topK === -1) sampling.topK = 0;
  f.number('n', 1, 1, { integer: true }); // one choice per request
  return { sampling, maxTokens };
}

/**
 * `metadata` and `store`: OpenAI's stored-completions fields. Nothing is stored here, but clients send
 * them routinely, so they are checked (up to 16 string pairs, as OpenAI allows) and ignored.
 */
export function storageFields(f: Fields): void {
  f.boolean('store');
  const m = f.object('metadata');
  if (!m) return;
  const entries = Object.entries(m);
  if (entries.length > 16) throw invalidParam('metadata', "'metadata' has more than 16 keys");
  for (const [k, v] of entries) {
    if (k.length > 64) throw invalidParam('metadata', `'metadata' key '${k.slice(0, 64)}…' is longer than 64 characters`);
    if (typeof v !== 'string' || v.length > 512)
      throw invalidParam('metadata', `'metadata.${k}' must be a string of at most 512 characters`);
  }
}

/** `logit_bias`: token id (as a string key) → bias in [−100, 100]. */
export function logitBiasField(f: Fields, vocabSize: number): Map<number, number> {
  const o = f.object('logit_bias');
  const out = new Map<number, number>();
  if (!o) return out;
  const entries = Object.entries(o);
  if (entries.length > 1024) throw invalidParam('logit_bias', "'logit_bias' has more than 1024 entries");
  for (const [k, v] of entries) {
    const id = Number(k);
    if (!/^\d+$/.test(k) || id >= vocabSize)
      throw invalidParam('logit_bias', `'logit_bias' key '${k}' is not a token id of this model (0..${vocabSize - 1})`);
    if (typeof v !== 'number' || !(v >= -100 && v <= 100))
      throw invalidParam('logit_bias', `'logit_bias' values must be numbers in [-100, 100]`);
    out.set(id, v);
  }
  return out;
}

/** Text of a message's content: a string, null, or OpenAI content parts (text only). */
function contentText(v: unknown, param: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (!Array.isArray(v)) throw invalidParam(param, `'${param}' must be a string or an array of content parts`);
  if (v.length > 1000) throw invalidParam(param, `'${param}' has more than 1000 parts`);
  return v
    .map((_, i) => {
      const p = new Fields(objectAt(v, i, param), `${param}[${i}].`, ['type', 'text', 'image_url', 'input_audio', 'file']);
      const type = p.string('type', { required: true });
      if (type !== 'text')
        throw invalidParam(p.name('type'), `content parts of type '${type}' are not supported (text only)`, 'unsupported_content');
      return p.string('text', { required: true })!;
    })
    .join('');
}

function toolCalls(list: unknown[], param: string): ChatToolCall[] {
  return list.map((_, i) => {
    const c = new Fields(objectAt(list, i, param), `${param}[${i}].`, ['id', 'type', 'function', 'index']);
    const type = c.oneOf('type', ['function'] as const) ?? 'function';
    const fn = c.object('function');
    if (!fn) throw invalidParam(c.name('function'), `'${c.name('function')}' is required`, 'missing_parameter');
    const ff = new Fields(fn, `${c.name('function')}.`, ['name', 'arguments']);
    const name = ff.string('name', { required: true, maxLength: 64 })!;
    const args = ff.obj.arguments;
    const argText =
      typeof args === 'string' ? args : args !== undefined && args !== null && typeof args === 'object' ? JSON.stringify(args) : '{}';
    return { id: c.string('id', { maxLength: 256 }) ?? `call_${i}`, type, function: { name, arguments: argText } };
  });
}

function parseMessages(list: unknown[]): ChatMessageIn[] {
  if (list.length === 0) throw invalidParam('messages', "'messages' must contain at least one message", 'empty_messages');
  return list.map((_, i) => {
    const param = `messages[${i}]`;
    const f = new Fields(objectAt(list, i, 'messages'), `${param}.`, MESSAGE_FIELDS);
    const roleText = f.oneOf('role', ['system', 'developer', 'user', 'assistant', 'tool'] as const);
    if (roleText === undefined) throw invalidParam(f.name('role'), `'${f.name('role')}' is required`, 'missing_parameter');
    const role: Role = roleText === 'developer' ? 'system' : roleText;
    const m: ChatMessageIn = { role, content: contentText(f.obj.content, f.name('content')) };
    const name = f.string('name', { maxLength: 256 });
    if (name !== undefined) m.name = name;
    const calls = f.array('tool_calls', 128);
    if (calls !== undefined) {
      if (role !== 'assistant') throw invalidParam(f.name('tool_calls'), "only assistant messages carry 'tool_calls'");
      m.toolCalls = toolCalls(calls, f.name('tool_calls'));
    }
    if (role === 'tool') {
      m.toolCallId = f.string('tool_call_id', { maxLength: 256 });
      if (m.content === null)
        throw invalidParam(f.name('content'), `'${f.name('content')}' is required for a tool message`, 'missing_parameter');
    } else if (f.has('tool_call_id')) {
      throw invalidParam(f.name('tool_call_id'), "only tool messages carry 'tool_call_id'");
    }
    if (role !== 'assistant' && m.content === null)
      throw invalidParam(f.name('content'), `'${f.name('content')}' is required`, 'missing_parameter');
    if (role === 'assistant' && m.content === null && !m.toolCalls)
      throw invalidParam(f.name('content'), `an assistant message needs 'content' or 'tool_calls'`, 'missing_parameter');
    const prefix = f.boolean('prefix');
    if (prefix) {
      if (role !== 'assistant' || i !== list.length - 1)
        throw invalidParam(f.name('prefix'), "'prefix' is only allowed on the last message, an assistant one");
      m.prefix = true;
    }
    const reasoning = f.string('reasoning_content');
    if (reasoning !== undefined) {
      if (role !== 'assistant') throw invalidParam(f.name('reasoning_content'), "only assistant messages carry 'reasoning_content'");
      m.reasoningContent = reasoning;
    }
    return m;
  });
}

function parseTools(f: Fields): ToolSpec[] {
  const list = f.array('tools', 128) ?? [];
  const seen = new Set<string>();
  return list.map((_, i) => {
    const t = new Fields(objectAt(list, i, 'tools'), `tools[${i}].`, ['type', 'function']);
    if (t.oneOf('type', ['function'] as const) === undefined)
      throw invalidParam(t.name('type'), `'${t.name('type')}' is required ('function')`, 'missing_parameter');
    const fn = t.object('function');
    if (!fn) throw invalidParam(t.name('function'), `'${t.name('function')}' is required`, 'missing_parameter');
    const ff = new Fields(fn, `${t.name('function')}.`, ['name', 'description', 'parameters', 'strict']);
    const name = ff.string('name', { required: true })!;
    if (!NAME.test(name))
      throw invalidParam(ff.name('name'), `'${ff.name('name')}' must be 1–64 letters, digits, '_' or '-', got '${name}'`);
    if (seen.has(name)) throw invalidParam(ff.name('name'), `two tools are named '${name}'`);
    seen.add(name);
    const spec: ToolSpec = { type: 'function', function: { name } };
    const description = ff.string('description', { maxLength: 8192 });
    if (description !== undefined) spec.function.description = description;
    const parameters = ff.object('parameters');
    if (parameters !== undefined) spec.function.parameters = parameters;
    const strict = ff.boolean('strict');
    if (strict !== undefined) spec.function.strict = strict;
    return spec;
  });
}

function parseToolChoice(f: Fields, tools: ToolSpec[]): ToolChoice {
  const v = f.obj.tool_choice;
  if (v === undefined || v === null) return tools.length > 0 ? 'auto' : 'none';
  let choice: ToolChoice;
  if (typeof v === 'string') {
    choice = f.oneOf('tool_choice', ['none', 'auto', 'required'] as const)!;
  } else {
    const c = new Fields(f.object('tool_choice')!, 'tool_choice.', ['type', 'function']);
    c.oneOf('type', ['function'] as const);
    const fn = c.object('function');
    if (!fn) throw invalidParam('tool_choice.function', "'tool_choice.function' is required", 'missing_parameter');
    const name = new Fields(fn, 'tool_choice.function.', ['name']).string('name', { required: true })!;
    if (!tools.some((t) => t.function.name === name))
      throw invalidParam('tool_choice', `'tool_choice' names '${name}', which is not in 'tools'`);
    choice = { name };
  }
  if (choice !== 'none' && tools.length === 0)
    throw invalidParam('tool_choice', `'tool_choice' is '${typeof choice === 'string' ? choice : 'function'}' but no 'tools' were given`);
  return choice;
}

export interface ChatLimits {
  maxTokens: number;
  vocabSize: number;
}

/** Validates a chat completion body (422 on the first problem). */
export function parseChatRequest(body: Json, limits: ChatLimits): ChatRequest {
  const f = new Fields(body, '', CHAT_FIELDS);
  const model = f.string('model', { required: true, maxLength: 256 })!;
  const list = f.array('messages', 10_000);
  if (list === undefined) throw invalidParam('messages', "'messages' is required", 'missing_parameter');
  const messages = parseMessages(list);
  const stream = f.boolean('stream') ?? false;
  const so = f.object('stream_options');
  if (so && !stream) throw invalidParam('stream_options', "'stream_options' is only allowed with 'stream': true");
  const includeUsage = so
    ? (new Fields(so, 'stream_options.', ['include_usage', 'continuous_usage_stats']).boolean('include_usage') ?? false)
    : false;
  const { sampling, maxTokens } = samplingFields(f, limits.maxTokens);
  const rf = f.object('response_format');
  const format = rf ? (new Fields(rf, 'response_format.', ['type']).oneOf('type', ['text', 'json_object'] as const) ?? 'text') : 'text';
  const tools = parseTools(f);
  const toolChoice = parseToolChoice(f, tools);
  f.boolean('parallel_tool_calls');
  f.string('user', { maxLength: 1024 });
  storageFields(f);
  const logprobs = f.boolean('logprobs') ?? false;
  const topLogprobs = f.number('top_logprobs', 0, 20, { integer: true });
  if (topLogprobs !== undefined && !logprobs) throw invalidParam('top_logprobs', "'top_logprobs' needs 'logprobs': true");
  if (format === 'json_object' && typeof toolChoice === 'object')
    throw invalidParam('response_format', "'response_format' json_object cannot be combined with a forced tool call");
  return {
    model,
    messages,
    stream,
    includeUsage,
    maxTokens,
    sampling,
    stop: f.stopStrings('stop', 16),
    jsonMode: format === 'json_object',
    tools,
    toolChoice,
    logprobs,
    topLogprobs: topLogprobs ?? 0,
    logitBias: logitBiasField(f, limits.vocabSize),
    ignoreEos: f.boolean('ignore_eos') ?? false,
    search: parseSearchField(f),
    files: parseFilesField(f),
  };
}
