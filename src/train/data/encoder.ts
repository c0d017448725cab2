/**
 * The tokenizer as the data pipeline sees it: plain-text encoding (no BOS/EOS added) plus the id of
 * the document separator, found from the run config, the tokenizer's named EOS, or the usual names.
 */
import type { Tokenizer } from '../../tokenizer/tokenizer.ts';
import { TrainError } from '../errors.ts';
import type { CorpusEncoder } from './token-stream.ts';

/** End-of-document tokens of well-known tokenizers, tried in order when nothing names one. */
export const EOS_CANDIDATES = ['<｜end▁of▁sentence｜>', '<|endoftext|>', '<|end_of_text|>', '</s>', '<eos>', '<|eos|>'];

/** The separator id: `eosToken` when given, else the tokenizer's eos_token, else a known name. */
export function findEos(tok: Tokenizer, eosToken: string | null): { id: number; token: string } {
  if (eosToken !== null) {
    const id = tok.tokenToId(eosToken);
    if (id === undefined) throw new TrainError(`data.eosToken ${JSON.stringify(eosToken)} is not a token of the tokenizer`);
    return { id, token: eosToken };
  }
  for (const t of [tok.specialTokens.eos_token, ...EOS_CANDIDATES]) {
    if (t === undefined) continue;
    const id = tok.tokenToId(t);
    if (id !== undefined) return { id, token: t };
  }
  throw new TrainError('the tokenizer has no end-of-document token; name one with data.eosToken');
}

export function corpusEncoder(tok: Tokenizer, eosToken: string | null): CorpusEncoder & { eosToken: string } {
  const eos = findEos(tok, eosToken);
  return {
    eosId: eos.id,
    eosToken: eos.token,
    encodeInto: (text, out) => {
      const ids = tok.encodeToInt32(text); // no special tokens added
      for (let i = 0; i < ids.length; i++) out.push(ids[i]!);
    },
  };
}
