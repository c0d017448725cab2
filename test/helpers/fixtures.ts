/**
 * The reference fixtures in ../shared (goldens of HF transformers): where they are, and reading a
 * golden file into tensors. A missing ../shared fails loudly: these tests must never pass silently.
 */
import { openSafetensors } from '../../src/io/safetensors/index.ts';
import { tensorFromStored } from '../../src/model/load.ts';
import type { Tensor } from '../../src/tensor/index.ts';
import { requireShared, fixtureModels } from './shared.ts';

export { sharedDir } from './shared.ts';

/** Path of a file under ../shared/fixtures, failing loudly when it is missing. */
export function fixture(...parts: string[]): string {
  return requireShared('fixtures', ...parts);
}

export const FIXTURE_MODELS = fixtureModels;

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
