/**
 * Where the read-only reference data lives (../shared from the repo root) and a guard that makes a
 * test fail loudly, never pass silently, when it is missing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the shared folder (/work/shared in the usual checkout). */
export const sharedDir = fileURLToPath(new URL('../../../shared/', import.meta.url));

/** Path of a file under shared/, after checking the folder is there. */
export function requireShared(...parts: string[]): string {
  if (!existsSync(sharedDir)) {
    throw new Error(`reference data folder not found at ${sharedDir}: these tests need ../shared next to the repository`);
  }
  const p = join(sharedDir, ...parts);
  if (!existsSync(p)) throw new Error(`reference file missing: ${p}`);
  return p;
}

/** The fixture model folders, one per family. */
export const fixtureModels = ['deepseek_v3_tiny', 'deepseek_v3_tiny_fp8', 'deepseek_v2_tiny', 'qwen2_tiny', 'llama_tiny'] as const;
