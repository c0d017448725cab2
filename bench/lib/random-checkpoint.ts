/**
 * Random-weight checkpoints in the real shapes, written as real checkpoint folders (config.json +
 * sharded safetensors) for the benchmarks, so they load through the real loader: bf16, or already
 * quantised (fp8 in the DeepSeek-V3 layout, q8 / q4 in deepseek-ts's) for models whose bf16 form
 * would not fit this machine. Tensors are made one at a time while writing, so writing a 16 GB
 * checkpoint needs little memory. Matrices ~ N(0, initializer_range) in distribution (bf16), or
 * uniform codes with the scale that gives that standard deviation (quantised); norms 1, biases 0.
 */
import { randomFillSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/io/config.ts';
import { writeCheckpoint, type DeferredTensor } from '../../src/io/safetensors/index.ts';
import { declareModel } from '../../src/model/registry.ts';
import { quantizable } from '../../src/model/quantize.ts';
import { withQuantizationConfig } from '../../src/model/quantize-checkpoint.ts';
import { Rng } from '../../src/tensor/index.ts';
import { encodeBf16, f32FromE4m3 } from '../../src/tensor/codecs.ts';

export type BenchScheme = 'bf16' | 'q8' | 'q4' | 'fp8';

/** A pool of N(0, std) bf16 values; tensors are filled with slices of it from random offsets. */
function bf16Pool(std: number): Uint16Array {
  const rng = new Rng(1234);
  const f = new Float32Array(1 << 22);
  for (let i = 0; i < f.length; i++) f[i] = rng.normal() * std;
  return encodeBf16(f);
}

function fillFromPool(out: Uint16Array, pool: Uint16Array): void {
  const chunk = 1 << 16;
  for (let i = 0; i < out.length; i += chunk) {
    const n = Math.min(chunk, out.length - i);
    const at = Math.floor(Math.random() * (pool.length - n));
    out.set(pool.subarray(at, at + n), i);
  }
}

/** RMS of e4m3 values over all finite codes, to scale random codes to a target std. */
function e4m3Rms(): number {
  let s = 0;
  let n = 0;
  for (let c = 0; c < 256; c++) {
    if ((c & 0x7f) === 0x7f) continue;
    s += f32FromE4m3(c) ** 2;
    n++;
  }
  return Math.sqrt(s / n);
}

/** Writes `configPath`'s model with random weights to `dir` in `scheme`; reuses a complete folder. */
export function writeRandomCheckpoint(configPath: string, dir: string, scheme: BenchScheme, tokenizerDir?: string): string {
  const marker = join(dir, '.complete');
  if (existsSync(marker)) return dir;
  mkdirSync(dir, { recursive: true });
  const json = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  const config = parseConfig(json, configPath);
  const std = config.initializerRange;
  const pool = bf16Pool(std);
  const tensors = new Map<string, DeferredTensor>();
  const bf16 = (shape: readonly number[], fill: (a: Uint16Array) => void): DeferredTensor => ({
    dtype: 'BF16',
    shape,
    produce: () => {
      const a = new Uint16Array(shape.reduce((x, y) => x * y, 1));
      fill(a);
      return a;
    },
  });
  const randomBytes = <T extends Int8Array | Uint8Array>(a: T): T => {
    for (let i = 0; i < a.length; i += 1 << 16) randomFillSync(a.subarray(i, Math.min(a.length, i + (1 << 16))));
    return a;
  };
  const fp8Scale = std / e4m3Rms();
  for (const e of declareModel(config)) {
    const { name, shape } = e;
    if (e.init !== 'normal') {
      // HF stores the V3 router's correction bias in f32; norms and biases in the model dtype.
      if (name.endsWith('e_score_correction_bias')) tensors.set(name, { dtype: 'F32', shape, produce: () => new Float32Array(shape[0]!) });
      else
        tensors.set(
          name,
          bf16(shape, (a) => a.fill(e.init === 'ones' ? 0x3f80 : 0)),
        );
      continue;
    }
    if (scheme === 'bf16' || !quantizable(name, shape, scheme)) {
      tensors.set(
        name,
        bf16(shape, (a) => fillFromPool(a, pool)),
      );
      continue;
    }
    const [N, K] = shape as [number, number];
    if (scheme === 'fp8') {
      tensors.set(name, {
        dtype: 'F8_E4M3',
        shape,
        produce: () => randomBytes(new Uint8Array(N * K)).map((c) => ((c & 0x7f) === 0x7f ? c & 0xfe : c)),
      });
      const s = [Math.ceil(N / 128), Math.ceil(K / 128)];
      tensors.set(`${name}_scale_inv`, { dtype: 'F32', shape: s, produce: () => new Float32Array(s[0]! * s[1]!).fill(fp8Scale) });
    } else {
      const q4 = scheme === 'q4' && K % 32 === 0;
      // Uniform int8 codes have std ≈ 73.9, uniform int4 codes ≈ 4.61.
      const scale = std / (q4 ? 4.61 : 73.9);
      if (q4) tensors.set(name, { dtype: 'U8', shape: [N, K / 2], produce: () => randomBytes(new Uint8Array((N * K) / 2)) });
      else tensors.set(name, { dtype: 'I8', shape, produce: () => randomBytes(new Int8Array(N * K)) });
      const s = [N, Math.ceil(K / 32)];
      tensors.set(`${name}_scale_inv`, { dtype: 'F32', shape: s, produce: () => new Float32Array(s[0]! * s[1]!).fill(scale) });
    }
  }
  writeCheckpoint(dir, tensors);
  // The config as written (a JSON round trip would turn 0.0 into 0, which the llama.cpp converter's
  // transformers config classes reject), with the scheme's quantization_config.
  const text = readFileSync(configPath, 'utf8');
  writeFileSync(join(dir, 'config.json'), scheme === 'bf16' ? text : withQuantizationConfig(text, scheme));
  if (tokenizerDir) for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(tokenizerDir, f), join(dir, f));
  writeFileSync(marker, '');
  return dir;
}
