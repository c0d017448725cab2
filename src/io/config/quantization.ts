/**
 * Parses `quantization_config`. Only the FP8 block-scaled scheme of DeepSeek-V3's release is
 * supported ({quant_method: "fp8", fmt: "e4m3", weight_block_size: [128, 128],
 * activation_scheme: "dynamic"}); any other method is refused rather than silently misread.
 */
import type { ConfigReader } from './reader.ts';
import type { Fp8Quantization } from './types.ts';

export function parseQuantization(r: ConfigReader): Fp8Quantization | null {
  const obj = r.objectOrNull('quantization_config');
  if (obj === null) return null;
  const q = r.nested('quantization_config', obj);
  if (!q.has('quant_method')) q.fail('quant_method', 'missing required key');
  q.oneOf('quant_method', ['fp8'] as const, 'fp8');
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
