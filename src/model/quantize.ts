/**
 * Which weights a `--quantize` scheme converts, and what they then cost. The block projections
 * (attention, MLP, experts) are quantised; the embedding table, norms, biases and the MoE router
 * (`mlp.gate.weight`, whose scores pick experts) stay as stored — the split llama.cpp and DeepSeek-V3's
 * FP8 release make too. The output head is quantised by q8 / q4 (as llama.cpp does; a tied head gets
 * its own quantised copy of the embedding) but stays as stored in fp8, as in the V3 release — which is
 * also what transformers expects of an fp8 checkpoint.
 */
import type { QuantScheme } from '../kernels/types.ts';
import { QUANT_BLOCK } from '../kernels/types.ts';

export const QUANT_SCHEMES: readonly QuantScheme[] = ['q8', 'q4', 'fp8'];

/** Human names, for messages and docs. */
export const SCHEME_LABEL: Record<QuantScheme, string> = {
  q8: 'int8, 1×32 blocks (Q8_0-like)',
  q4: 'int4, 1×32 blocks (Q4_0-like)',
  fp8: 'fp8 e4m3, 128×128 blocks (DeepSeek-V3 format)',
};

export function isQuantScheme(s: string): s is QuantScheme {
  return (QUANT_SCHEMES as readonly string[]).includes(s);
}

/** True for the tensors a scheme converts (by name and shape, before reading any data). */
export function quantizable(name: string, shape: readonly number[], scheme: QuantScheme): boolean {
  if (shape.length !== 2 || !name.endsWith('.weight')) return false;
  if (name === 'lm_head.weight' && scheme === 'fp8') return false;
  if (name === 'model.embed_tokens.weight' || name.endsWith('.embed_tokens.weight')) return false;
  if (/\.mlp\.gate\.weight$/.test(name)) return false; // the MoE router (not Llama's gate_proj)
  if (/norm\.weight$/.test(name)) return false;
  return true;
}

/** The scheme a tensor of K columns actually gets: q4 needs whole 32-wide blocks, else it takes q8. */
export function schemeFor(scheme: QuantScheme, K: number): QuantScheme {
  return scheme === 'q4' && K % QUANT_BLOCK !== 0 ? 'q8' : scheme;
}

/** How an N×K weight is stored under a scheme: its codes, and its F32 `weight_scale_inv` blocks. */
export function quantizedLayout(
  scheme: QuantScheme,
  N: number,
  K: number,
): { codes: { dtype: 'F8_E4M3' | 'I8' | 'U8'; shape: number[] }; scales: { dtype: 'F32'; shape: number[] } } {
  const s = schemeFor(scheme, K);
  if (s === 'fp8')
    return { codes: { dtype: 'F8_E4M3', shape: [N, K] }, scales: { dtype: 'F32', shape: [Math.ceil(N / 128), Math.ceil(K / 128)] } };
  const scales = { dtype: 'F32' as const, shape: [N, Math.ceil(K / QUANT_BLOCK)] };
  return s === 'q8' ? { codes: { dtype: 'I8', shape: [N, K] }, scales } : { codes: { dtype: 'U8', shape: [N, K / 2] }, scales };
}

/** Bytes of an N×K weight under a scheme (codes + f32 block scales). */
export function quantizedBytes(scheme: QuantScheme, N: number, K: number): number {
  const { codes, scales } = quantizedLayout(scheme, N, K);
  return codes.shape[0]! * codes.shape[1]! + scales.shape[0]! * scales.shape[1]! * 4;
}
