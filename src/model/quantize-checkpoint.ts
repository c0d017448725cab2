/**
 * `dsts quantize`: a checkpoint folder rewritten with its block projections and head quantised, tensor
 * by tensor (the source is read in place and its pages handed back after each tensor, so the
 * unquantised model is never held). fp8 uses the layout DeepSeek-V3 ships — F8_E4M3 weights, an F32
 * `weight_scale_inv` per 128×128 block, `quantization_config` {quant_method: "fp8"} — which
 * transformers and vLLM load; q8 / q4 use deepseek-ts's own layout (see io/config/types.ts
 * IntQuantization). Everything else in the folder (tokenizer, generation config) is copied.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  byteLengthOf,
  openCheckpoint,
  writeCheckpoint,
  INDEX_FILE,
  SINGLE_FILE,
  type StoredTensor,
  type WritableTensor,
} from '../io/safetensors/index.ts';
import { loadConfig } from '../io/config.ts';
import { writeFileAtomic } from '../io/safetensors/atomic.ts';
import { UserFacingError } from '../io/errors.ts';
import type { QuantScheme } from '../kernels/types.ts';
import { quantizable, quantizedLayout } from './quantize.ts';
import { quantizeTensor, tensorFromStored } from './load.ts';
import { dequantize, type Tensor } from '../tensor/index.ts';

export interface QuantizeProgress {
  done: number;
  total: number;
  name: string;
}

export interface QuantizeResult {
  tensors: number;
  quantized: number;
  bytesIn: number;
  bytesOut: number;
}

const CHECKPOINT_FILE = /(\.safetensors|\.safetensors\.index\.json)$/;

/** Quantises the checkpoint in `inDir` into `outDir` (which must not exist, or be empty). */
export function quantizeCheckpoint(
  inDir: string,
  outDir: string,
  scheme: QuantScheme,
  onProgress?: (p: QuantizeProgress) => void,
): QuantizeResult {
  const config = loadConfig(inDir);
  if (config.quantization)
    throw new UserFacingError(
      `${inDir}: already quantised (${config.quantization.quantMethod}); quantise the original bf16/f32 checkpoint instead`,
    );
  if (existsSync(outDir) && (!statSync(outDir).isDirectory() || readdirSync(outDir).length > 0)) {
    throw new UserFacingError(`${outDir}: exists and is not an empty folder (nothing is overwritten)`);
  }
  const ckpt = openCheckpoint(inDir);
  const result: QuantizeResult = { tensors: 0, quantized: 0, bytesIn: 0, bytesOut: 0 };
  try {
    // Every output tensor is made when the writer reaches it, so neither model is ever held whole.
    // Codes and scales of one weight are written at different times (the file groups tensors by
    // dtype), so each quantises the source again rather than keeping the other half in memory.
    const out = new Map<string, WritableTensor>();
    const names = ckpt.names();
    let done = 0;
    const progress = (name: string) => onProgress?.({ done: ++done, total: out.size, name });
    for (const name of names) {
      const info = ckpt.info(name);
      result.tensors++;
      result.bytesIn += info.byteLength;
      if (!quantizable(name, info.shape, scheme)) {
        out.set(name, { dtype: info.dtype, shape: info.shape, produce: () => (progress(name), ckpt.read(name).data) });
        result.bytesOut += info.byteLength;
        continue;
      }
      const quantized = (): Tensor => {
        let t = tensorFromStored(ckpt.read(name), name, ckpt.fileOf(name));
        if (t.dtype !== 'f32' && t.dtype !== 'bf16' && t.dtype !== 'f16') t = dequantize(t);
        const q = quantizeTensor(t, scheme);
        ckpt.release(name); // the source pages go back to the page cache, out of this process
        return q;
      };
      const [N, K] = info.shape as [number, number];
      const { codes, scales } = quantizedLayout(scheme, N, K);
      out.set(name, { ...codes, produce: () => (progress(name), quantized().data as StoredTensor['data']) });
      out.set(`${name}_scale_inv`, { ...scales, produce: () => (progress(`${name}_scale_inv`), quantized().scale!.scaleInv) });
      result.bytesOut += byteLengthOf(codes) + byteLengthOf(scales);
      result.quantized++;
    }
    mkdirSync(outDir, { recursive: true });
    writeCheckpoint(outDir, out);
  } finally {
    ckpt.close();
  }
  writeFileAtomic(join(outDir, 'config.json'), withQuantizationConfig(readFileSync(join(inDir, 'config.json'), 'utf8'), scheme));
  for (const f of readdirSync(inDir)) {
    if (f === 'config.json' || f === INDEX_FILE || f === SINGLE_FILE || CHECKPOINT_FILE.test(f)) continue;
    const src = join(inDir, f);
    if (statSync(src).isFile()) copyFileSync(src, join(outDir, f));
  }
  return result;
}

/** The `quantization_config` a scheme's checkpoint declares. */
export function quantizationConfig(scheme: QuantScheme): Record<string, unknown> {
  return scheme === 'fp8'
    ? { quant_method: 'fp8', fmt: 'e4m3', activation_scheme: 'dynamic', weight_block_size: [128, 128] }
    : { quant_method: 'dsts', scheme, weight_block_size: [1, 32] };
}

/**
 * A config.json text with `quantization_config` added and everything else left as written: a JSON
 * round trip would turn 0.0 into 0, which transformers' strict config classes reject.
 */
export function withQuantizationConfig(text: string, scheme: QuantScheme): string {
  const json = JSON.parse(text) as Record<string, unknown>;
  if ('quantization_config' in json) throw new UserFacingError('config.json already has a quantization_config');
  const entry = `"quantization_config": ${JSON.stringify(quantizationConfig(scheme))}`;
  const body = text.replace(/\}\s*$/, '');
  return `${body.trimEnd()}${Object.keys(json).length > 0 ? ',' : ''}\n  ${entry}\n}\n`;
}
