/**
 * The raw bytes each token id stands for, which constrained decoding checks against a grammar.
 * Byte-level BPE tokens are stored in GPT-2's printable byte alphabet ('Ġ' for a space); special
 * tokens have no bytes a grammar could accept (null), non-special added tokens (R1's `<think>`) are
 * their UTF-8 text.
 */
import { BYTE_TO_CHAR, type Tokenizer } from '../../tokenizer/index.ts';

const CHAR_TO_BYTE = new Map<string, number>(BYTE_TO_CHAR.map((c, b) => [c, b]));
const utf8 = new TextEncoder();

/** `table[id]`: the token's bytes, or null for special tokens and ids the tokenizer lacks. */
export type TokenBytes = readonly (Uint8Array | null)[];

/** Builds the table for ids 0..vocabSize−1 (the model's vocabulary may be larger than the tokenizer's). */
export function tokenBytes(tokenizer: Tokenizer, vocabSize: number): TokenBytes {
  const added = new Map(tokenizer.addedTokens.map((t) => [t.id, t]));
  const out: (Uint8Array | null)[] = new Array(vocabSize).fill(null);
  for (let id = 0; id < vocabSize; id++) {
    const a = added.get(id);
    if (a) {
      out[id] = a.special ? null : utf8.encode(a.content);
      continue;
    }
    const token = tokenizer.idToToken(id);
    if (token === undefined) continue;
    const bytes = new Uint8Array(token.length);
    let ok = true;
    for (let i = 0; i < token.length; i++) {
      const b = CHAR_TO_BYTE.get(token[i]!);
      if (b === undefined) {
        ok = false;
        break;
      }
      bytes[i] = b;
    }
    out[id] = ok && bytes.length > 0 ? bytes : null;
  }
  return out;
}
