/**
 * `POST /tokenize` and `POST /detokenize` (vLLM's shapes): text or chat messages → token ids, and
 * ids → text, with the served model's tokenizer and chat template.
 */
import type { ServerContext } from '../context.ts';
import { buildChatPrompt } from '../chat/prompt.ts';
import { invalidParam } from '../http/errors.ts';
import { Fields, type Json } from '../http/validate.ts';
import { parseChatRequest } from '../chat/request.ts';

export function tokenize(ctx: ServerContext, body: Json): Json {
  const f = new Fields(body, '', [
    'model',
    'prompt',
    'messages',
    'tools',
    'add_special_tokens',
    'add_generation_prompt',
    'return_token_strs',
  ]);
  f.string('model', { maxLength: 256 }); // chosen by the route (models.ts); checked here for its type
  const strs = f.boolean('return_token_strs') ?? false;
  let ids: number[];
  if (f.has('messages')) {
    if (f.has('prompt')) throw invalidParam('prompt', "give either 'prompt' or 'messages', not both");
    if (f.has('add_generation_prompt') && f.boolean('add_generation_prompt') === false) {
      throw invalidParam('add_generation_prompt', "'add_generation_prompt': false is not supported");
    }
    const r = parseChatRequest(
      { model: ctx.model.id, messages: body.messages, tools: body.tools },
      { maxTokens: 1, vocabSize: ctx.model.model.vocabSize },
    );
    ids = buildChatPrompt(ctx.model, r.messages, r.tools).ids;
  } else {
    const prompt = f.string('prompt', { required: true })!;
    ids = ctx.model.tokenizer.encode(prompt, { addSpecialTokens: f.boolean('add_special_tokens') ?? true });
  }
  const out: Json = { count: ids.length, max_model_len: ctx.model.maxContext, tokens: ids };
  if (strs) out.token_strs = ids.map((id) => ctx.model.tokenizer.idToToken(id) ?? '');
  return out;
}

export function detokenize(ctx: ServerContext, body: Json): Json {
  const f = new Fields(body, '', ['model', 'tokens']);
  f.string('model', { maxLength: 256 }); // chosen by the route (models.ts); checked here for its type
  const tokens = f.array('tokens', 1_000_000);
  if (tokens === undefined) throw invalidParam('tokens', "'tokens' is required", 'missing_parameter');
  const V = ctx.model.tokenizer.vocabSize;
  tokens.forEach((t, i) => {
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t >= V)
      throw invalidParam(`tokens[${i}]`, `'tokens[${i}]' must be a token id in 0..${V - 1}`);
  });
  return { prompt: ctx.model.tokenizer.decode(tokens as number[]) };
}
