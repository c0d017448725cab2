/**
 * `python3 -m sglang.launch_server` for a checkpoint (SGLang docs, "Speculative decoding → Multi
 * token prediction" and the DeepSeek-V3 usage page): `--tp`, `--ep-size` for MoE models, `--nnodes`
 * when the tensor-parallel group spans nodes (SGLang splits TP across nodes rather than pipelining),
 * and MTP as EAGLE-style drafting from the model's own NextN module: `--speculative-algorithm EAGLE`
 * with k steps, top-1 and k + 1 draft tokens (NEXTN is the older alias).
 */
import type { ServingLayout } from './serving.ts';
import { shellQuote } from './shell.ts';

export function sglangCommand(model: string, l: ServingLayout, port = 30000): string[] {
  const tp = l.tp * l.pp;
  const args = ['python3', '-m', 'sglang.launch_server', '--model-path', shellQuote(model), '--tp', String(tp)];
  if (l.ep > 1) args.push('--ep-size', String(tp));
  if (l.pp > 1) args.push('--nnodes', String(l.pp), '--node-rank', '"$NODE_RANK"', '--dist-init-addr', '"$MASTER_ADDR:5000"');
  args.push('--context-length', String(l.maxModelLen));
  if (l.draftTokens > 0)
    args.push(
      '--speculative-algorithm',
      'EAGLE',
      '--speculative-num-steps',
      String(l.draftTokens),
      '--speculative-eagle-topk',
      '1',
      '--speculative-num-draft-tokens',
      String(l.draftTokens + 1),
    );
  args.push('--port', String(port));
  return args;
}
