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
import { openCheckpoint, writeCheckpoint, INDEX_FILE, SINGLE_FILE, type StoredTensor } from '../io/safetensors/index.ts';
import { loadConfig } from '../io/config.ts';
import { writeFileAtomic } from '../io/safetensors/atomic.ts';
import { UserFacingError } from '../io/errors.ts';
import type { QuantScheme } from '../kernels/types.ts';
import { quantizable, schemeFor } from './quantize.ts';
import { quantizeTensor, tensorFromStored } from './load.ts';
import { dequantize, Tensor } from '../tensor/index.ts';

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
export function quantizeCheckpoint(inDir: string, outDir: string, scheme: QuantScheme, onProgress?: (p: QuantizeProgress) => void): QuantizeResult {
  const config = loadConfig(inDir);
  if (config.quantization) throw new UserFacingError(`${inDir}: already quantised (${config.quantization.quantMethod}); quantise the original bf16/f32 checkpoint instead`);
  if (existsSync(outDir) && (!statSync(outDir).isDirectory() || readdirSync(outDir).length > 0)) {
    throw new UserFacingError(`${outDir}: exists and is not an empty folder (nothing is overwritten)`);
  }
  const ckpt = openCheckpoint(inDir);
  const out = new Map<string, StoredTensor>();
  const result: QuantizeResult = { tensors: 0, quantized: 0, bytesIn: 0, bytesOut: 0 };
  try {
    const names = ckpt.names();
    names.forEach((name, i) => {
      onProgress?.({ done: i, total: names.length, name });
      const info = ckpt.info(name);
      result.tensors++;
      result.bytesIn += info.byteLength;
      if (!quantizable(name, info.shape)) {
        const s = ckpt.read(name);
        // Copied: the output must not keep views of the input's mapped pages.
        const copy = { ...s, data: s.data.slice() } as StoredTensor;
        out.set(name, copy);
        result.bytesOut += info.byteLength;
        return;
      }
      let t = tensorFromStored(ckpt.read(name), name, ckpt.fileOf(name));
      if (t.dtype !== 'f32' && t.dtype !== 'bf16' && t.dtype !== 'f16') t = dequantize(t);
      const q = quantizeTensor(t, scheme);
      ckpt.release(name);
      for (const [n, s] of storedForm(name, q)) {
        out.set(n, s);
        result.bytesOut += s.data.byteLength;
      }
      result.quantized++;
    });
    onProgress?.({ done: names.length, total: names.length, name: '' });
  } finally {
    ckpt.close();
  }
  mkdirSync(outDir, { recursive: true });
  writeCheckpoint(outDir, out);
  writeFileAtomic(join(outDir, 'config.json'), `${JSON.stringify(configWith(inDir, scheme), null, 2)}\n`);
  for (const f of readdirSync(inDir)) {
    if (f === 'config.json' || f === INDEX_FILE || f === SINGLE_FILE || CHECKPOINT_FILE.test(f)) continue;
    const src = join(inDir, f);
    if (statSync(src).isFile()) copyFileSync(src, join(outDir, f));
  }
  return result;
}

/** A quantised Tensor as the tensors written for it: the codes, and `<name>_scale_inv`. */
function storedForm(name: string, t: Tensor): [string, StoredTensor][] {
  const [N, K] = t.shape as [number, number];
  const s = t.scale!;
  const scaleShape = [Math.ceil(N / s.blockRows), Math.ceil(K / s.blockCols)];
  const scales: StoredTensor = { dtype: 'F32', shape: scaleShape, data: s.scaleInv } as StoredTensor;
  let codes: StoredTensor;
  if (t.dtype === 'e4m3') codes = { dtype: 'F8_E4M3', shape: [N, K], data: t.data } as StoredTensor;
  else if (t.dtype === 'i8') codes = { dtype: 'I8', shape: [N, K], data: t.data } as StoredTensor;
  else codes = { dtype: 'U8', shape: [N, K / 2], data: t.data } as StoredTensor;
  return [[name, codes], [`${name}_scale_inv`, scales]];
}

/** The input's config.json with the scheme's quantization_config. */
function configWith(inDir: string, scheme: QuantScheme): Record<string, unknown> {
  const json = JSON.parse(readFileSync(join(inDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  json.quantization_config =
    scheme === 'fp8'
      ? { quant_method: 'fp8', fmt: 'e4m3', activation_scheme: 'dynamic', weight_block_size: [128, 128] }
      : { quant_method: 'dsts', scheme, weight_block_size: [1, 32] };
  return json;
}

