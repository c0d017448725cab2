/**
 * Log-probabilities in the two shapes of the API: chat's `logprobs.content` entries (token text,
 * UTF-8 bytes, top alternatives) and the legacy completions object (parallel arrays).
 */
import type { TokenLogprob } from './engine/generation.ts';
import type { ServedModel } from './served-model.ts';

export interface ChatLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

const utf8 = new TextEncoder();

/** A token's text and bytes (special tokens: their text; partial UTF-8: the raw bytes). */
export function tokenInfo(model: ServedModel, id: number): { token: string; bytes: number[] } {
  const raw = model.tokenBytes()[id];
  const token = safeDecode(model, id);
  return { token, bytes: raw ? [...raw] : [...utf8.encode(token)] };
}

function safeDecode(model: ServedModel, id: number): string {
  try {
    return model.tokenizer.decode([id]);
  } catch {
    return '';
  }
}

export function chatLogprob(model: ServedModel, id: number, lp: TokenLogprob): ChatLogprob {
  return {
    ...tokenInfo(model, id),
    logprob: lp.logprob,
    top_logprobs: lp.top.map((t) => ({ ...tokenInfo(model, t.id), logprob: t.logprob })),
  };
}

/** The legacy /v1/completions logprobs object. */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

export function emptyCompletionLogprobs(): CompletionLogprobs {
  return { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
}

/** Appends one token to a legacy logprobs object; `offset` is where its text starts in the output. */
export function addCompletionLogprob(into: CompletionLogprobs, model: ServedModel, id: number, lp: TokenLogprob, offset: number): void {
  into.tokens.push(safeDecode(model, id));
  into.token_logprobs.push(lp.logprob);
  const top: Record<string, number> = {};
  for (const t of lp.top) top[safeDecode(model, t.id)] = t.logprob;
  into.top_logprobs.push(top);
  into.text_offset.push(offset);
}
