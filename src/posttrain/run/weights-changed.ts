/**
 * After an optimizer step changed the weights in place, whatever a model derived from them must go:
 * MLA's decoding path caches kv_b_proj split into W_UK / W_UV (absorption), which would otherwise
 * keep sampling GRPO's rollouts from the policy as it was before the first update.
 */
import type { CausalLM } from '../../model/causal-lm.ts';
import { MultiHeadLatentAttention } from '../../model/mla.ts';

export function weightsChanged(model: CausalLM): void {
  for (const l of [...model.layers, ...model.mtp.map((m) => m.block)]) {
    if (l.attention instanceof MultiHeadLatentAttention) l.attention.invalidateAbsorbed();
  }
}
