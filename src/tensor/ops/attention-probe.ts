/**
 * A look at what attention attends with: while a probe is set (withAttentionProbe), every call of
 * `attention` outside an attention layout hands it its queries, keys and options before computing,
 * in call order — one call per block in a model's full-sequence forward. Distillation uses it to
 * rebuild teacher and student attention distributions (src/posttrain/distill/attention.ts); the
 * kernel itself never materialises them.
 */
import type { Tensor } from '../tensor.ts';
import type { AttentionOptions } from './attention.ts';

export type AttentionProbe = (q: Tensor, k: Tensor, opts: AttentionOptions) => void;

let probe: AttentionProbe | null = null;

/** The probe in force (null: none). */
export function activeAttentionProbe(): AttentionProbe | null {
  return probe;
}

/** Runs `body` with `p` seeing every attention call, restoring the previous probe after. */
export function withAttentionProbe<R>(p: AttentionProbe | null, body: () => R): R {
  const prev = probe;
  probe = p;
  try {
    return body();
  } finally {
    probe = prev;
  }
}
