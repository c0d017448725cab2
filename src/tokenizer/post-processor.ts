/**
 * Adding special tokens around an encoding (`addSpecialTokens: true`), single sequences only.
 *
 * Two sources decide, in transformers' order of precedence:
 * 1. tokenizer_config.json's `add_bos_token` / `add_eos_token`, when set (Llama-style tokenizers such
 *    as DeepSeek-V3's `LlamaTokenizerFast`: transformers rebuilds the post-processor from them);
 * 2. otherwise tokenizer.json's `post_processor`: `TemplateProcessing` (Llama-3), `RobertaProcessing`
 *    / `BertProcessing` (cls … sep), `ByteLevel` (adds nothing), or a `Sequence` of these.
 */
import { check, TokenizerError } from './errors.ts';
import type { ComponentJson } from './schema.ts';

/** Ids to put before and after a single encoded sequence. */
export interface SpecialTokenFrame {
  prefix: number[];
  suffix: number[];
}

export const EMPTY_FRAME: SpecialTokenFrame = { prefix: [], suffix: [] };

/** The frame a tokenizer.json post_processor adds to a single sequence. */
export function frameFromPostProcessor(
  node: ComponentJson | null | undefined,
  idOf: (token: string) => number | undefined,
): SpecialTokenFrame {
  if (node === null || node === undefined) return EMPTY_FRAME;
  check(typeof node.type === 'string', "post_processor: missing 'type'");
  const lookup = (token: string, where: string): number => {
    const id = idOf(token);
    if (id === undefined) throw new TokenizerError(`post_processor ${where}: token ${JSON.stringify(token)} is not in the vocabulary`);
    return id;
  };
  switch (node.type) {
    case 'ByteLevel':
      return EMPTY_FRAME;
    case 'Sequence': {
      check(Array.isArray(node.processors), "post_processor Sequence: 'processors' must be an array");
      const frame: SpecialTokenFrame = { prefix: [], suffix: [] };
      for (const p of node.processors as ComponentJson[]) {
        const f = frameFromPostProcessor(p, idOf);
        frame.prefix = [...frame.prefix, ...f.prefix];
        frame.suffix = [...f.suffix, ...frame.suffix];
      }
      return frame;
    }
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const cls = node.cls as [string, number] | undefined;
      const sep = node.sep as [string, number] | undefined;
      check(Array.isArray(cls) && Array.isArray(sep), `post_processor ${node.type}: 'cls' and 'sep' must be [token, id]`);
      return { prefix: [cls[1]], suffix: [sep[1]] };
    }
    case 'TemplateProcessing': {
      check(Array.isArray(node.single), "post_processor TemplateProcessing: 'single' must be an array");
      const specials = (node.special_tokens ?? {}) as Record<string, { ids?: number[] }>;
      const frame: SpecialTokenFrame = { prefix: [], suffix: [] };
      let seenSequence = false;
      for (const piece of node.single as Array<Record<string, { id: string }>>) {
        if (piece.Sequence) {
          seenSequence = true;
          continue;
        }
        check(piece.SpecialToken && typeof piece.SpecialToken.id === 'string', 'post_processor TemplateProcessing: bad piece in single');
        const name = piece.SpecialToken.id;
        const ids = specials[name]?.ids ?? [lookup(name, 'TemplateProcessing')];
        (seenSequence ? frame.suffix : frame.prefix).push(...ids);
      }
      return frame;
    }
    default:
      throw new TokenizerError(`unsupported post_processor type '${node.type}'`);
  }
}
