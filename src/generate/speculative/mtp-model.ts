/**
 * What self-speculative decoding needs of a model: its Multi-Token Prediction modules, run one step
 * at a time over their own caches (a `CausalLM` with MTP weights fits), and the options that turn it on.
 */
import type { Tensor } from '../../tensor/index.ts';
import type { MtpStepResult, SequenceCache } from '../../model/causal-lm.ts';
import type { DecodingModel } from '../batch-decoder.ts';
import { UserFacingError } from '../../io/errors.ts';

export interface MtpModel extends DecodingModel {
  /** MTP modules the checkpoint has (num_nextn_predict_layers). */
  readonly mtpDepth: number;
  /** Main decoder blocks: a sequence's MTP caches follow that many main caches in its SequenceCache. */
  readonly layers: readonly unknown[];
  newMtpCache(capacity: number): SequenceCache;
  /** One step over the MTP caches; logits of position `at[b]` of each row (default: the last). */
  mtpStep(depth: number, previous: Tensor, nextIds: Tensor, caches: SequenceCache[], at?: readonly number[]): MtpStepResult;
}

/** How a decoder speculates (vLLM's `speculative_config`, `--speculative mtp --draft-tokens k`). */
export interface SpeculativeOptions {
  /** The draft: the model's own MTP module (self-speculation, DeepSeek-V3 §5.4.3). */
  method: 'mtp';
  /**
   * Draft tokens per verification step (default 1, DeepSeek-V3's MTP depth). Past the checkpoint's
   * depth the first module is chained on its own output, as vLLM does.
   */
  draftTokens?: number;
}

/** The most draft tokens a step may propose (each costs one MTP step; acceptance falls with depth). */
export const MAX_DRAFT_TOKENS = 16;

/** A model that cannot speculate as asked; the message is for the user (CLI exit 1, HTTP 400). */
export class SpeculativeUnavailableError extends UserFacingError {
  constructor(message: string) {
    super(message);
    this.name = 'SpeculativeUnavailableError';
  }
}

/** The model as an MtpModel and the draft length, or a SpeculativeUnavailableError / RangeError. */
export function mtpModelFor(model: DecodingModel, options: SpeculativeOptions): { model: MtpModel; draftTokens: number } {
  if (options.method !== 'mtp') throw new RangeError(`unknown speculative method '${String(options.method)}' (the one there is: mtp)`);
  const k = options.draftTokens ?? 1;
  if (!(Number.isInteger(k) && k >= 1 && k <= MAX_DRAFT_TOKENS)) {
    throw new RangeError(`draft tokens must be an integer from 1 to ${MAX_DRAFT_TOKENS}, got ${k}`);
  }
  const m = model as Partial<MtpModel>;
  if (typeof m.mtpStep !== 'function' || typeof m.newMtpCache !== 'function' || !Array.isArray(m.layers) || !(m.mtpDepth! >= 1)) {
    throw new SpeculativeUnavailableError(
      'speculative decoding with mtp needs a checkpoint with Multi-Token Prediction weights (num_nextn_predict_layers ≥ 1 and layer num_hidden_layers stored); this model has none',
    );
  }
  return { model: model as MtpModel, draftTokens: k };
}
