/**
 * `vllm serve` for a checkpoint (vLLM docs, "Speculative decoding → MTP" and "Expert parallel
 * deployment"): tensor and pipeline parallel sizes, expert parallelism for MoE models, and MTP
 * drafting through `--speculative-config '{"method": "mtp", "num_speculative_tokens": k}'` (the
 * spelling of vLLM's current docs; v0.11's config lists it beside the older "deepseek_mtp").
 */
import type { ServingLayout } from './serving.ts';
import { shellQuote } from './shell.ts';

export function vllmCommand(model: string, l: ServingLayout, port = 8000): string[] {
  const args = ['vllm', 'serve', shellQuote(model), '--tensor-parallel-size', String(l.tp)];
  if (l.pp > 1) args.push('--pipeline-parallel-size', String(l.pp));
  if (l.ep > 1) args.push('--enable-expert-parallel');
  args.push('--max-model-len', String(l.maxModelLen));
  if (l.draftTokens > 0)
    args.push('--speculative-config', shellQuote(JSON.stringify({ method: 'mtp', num_speculative_tokens: l.draftTokens })));
  args.push('--port', String(port));
  return args;
}
