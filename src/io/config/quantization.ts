/**
 * Parses `quantization_config`. Two schemes are supported: the FP8 block-scaled one of DeepSeek-V3's
 * release ({quant_method: "fp8", fmt: "e4m3", weight_block_size: [128, 128], activation_scheme:
 * "dynamic"}), and the int8/int4 blocks `dsts quantize` writes ({quant_method: "dsts", scheme: "q8" |
 * "q4", weight_block_size: [1, 32]}); any other method is refused rather than silently misread.
 */
import type { ConfigReader } from './reader.ts';
import type { Fp8Quantization, IntQuantization } from './types.ts';

export function parseQuantization(r: ConfigReader): Fp8Quantization | IntQuantization | null {
  const obj = r.objectOrNull('quantization_config');
  if (obj === null) return null;
  const q = r.nested('quantization_config', obj);
  if (!q.has('quant_method')) q.fail('quant_method', 'missing required key');
  const method = q.oneOf('quant_method', ['fp8', 'dsts'] as const, 'fp8');
  if (method === 'dsts') {
    const scheme = q.oneOf('scheme', ['q8', 'q4'] as const, 'q8');
    const raw = q.raw('weight_block_size');
    if (raw !== undefined && JSON.stringify(raw) !== '[1,32]')
      q.fail('weight_block_size', `must be [1, 32] for quant_method "dsts", got ${JSON.stringify(raw)}`);
    return { quantMethod: 'dsts', scheme, weightBlockSize: [1, 32] };
  }
  const fmt = q.oneOf('fmt', ['e4m3'] as const, 'e4m3');
  const activationScheme = q.oneOf('activation_scheme', ['dynamic', 'static'] as const, 'dynamic');
  // transformers' FineGrainedFP8Config defaults to 128×128 blocks, DeepSeek-V3's choice.
  let weightBlockSize: [number, number] = [128, 128];
  const raw = q.raw('weight_block_size');
  if (raw !== undefined && raw !== null) {
    if (!Array.isArray(raw) || raw.length !== 2 || !raw.every((v) => Number.isSafeInteger(v) && v > 0)) {
      q.fail('weight_block_size', `must be [rows, cols] of positive integers, got ${JSON.stringify(raw)}`);
    }
    const [rows, cols] = raw as [number, number];
    weightBlockSize = [rows, cols];
  }
  return { quantMethod: 'fp8', fmt, weightBlockSize, activationScheme };
}
