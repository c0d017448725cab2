/**
 * The reference fixtures in ../shared (goldens of HF transformers): where they are, and reading a
 * golden file into tensors. A missing ../shared fails loudly: these tests must never pass silently.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { openSafetensors } from '../../src/io/safetensors/index.ts';
import { tensorFromStored } from '../../src/model/load.ts';
import type { Tensor } from '../../src/tensor/index.ts';

export const sharedDir = fileURLToPath(new URL('../../../shared/', import.meta.url));

export function fixture(...parts: string[]): string {
  const p = join(sharedDir, 'fixtures', ...parts);
  if (!existsSync(p)) throw new Error(`reference fixture missing: ${p} (the tests need ../shared beside the repository)`);
  return p;
}

export const FIXTURE_MODELS = ['deepseek_v3_tiny', 'deepseek_v3_tiny_fp8', 'deepseek_v2_tiny', 'qwen2_tiny', 'llama_tiny'] as const;

/** Every tensor of a golden file, by name. */
export function readGolden(model: string): Map<string, Tensor> {
  const path = fixture('models', model, 'golden.safetensors');
  const f = openSafetensors(path);
  try {
    return new Map(f.names().map((n) => [n, tensorFromStored(f.read(n), n, path)]));
  } finally {
    f.close();
  }
}

/** Largest |a − b| over two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
