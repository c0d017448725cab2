/**
 * Saves a checkpoint the way transformers' `save_pretrained` lays it out: one `model.safetensors`
 * when everything fits in a shard, otherwise `model-0000i-of-0000n.safetensors` shards plus
 * `model.safetensors.index.json` ({metadata: {total_size}, weight_map}). Each file is written
 * atomically; the index is written last, so readers never see an index naming missing shards.
 */
import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';

import { INDEX_FILE, SINGLE_FILE } from './checkpoint.ts';
import { byteLengthOf, writeSafetensors, type TensorMap, type WritableTensor } from './writer.ts';

export interface ShardOptions {
  /** Largest shard's data size in bytes (a bigger single tensor gets a shard of its own). Default 5 GB, as transformers. */
  maxShardBytes?: number;
  /** String metadata for every shard's header; defaults to {format: "pt"} like PyTorch checkpoints. */
  metadata?: Readonly<Record<string, string>>;
}

const SHARD_PATTERN = /^model-\d{5}-of-\d{5}\.safetensors$/;

/**
 * Writes `tensors` into folder `dir` (which must exist), single-file or sharded by size, in name
 * order. Leftover shards of an earlier save that this one did not rewrite are removed, and so is a
 * stale index when the result is a single file, so the folder always opens as what was saved.
 * Returns the files written.
 */
export function writeCheckpoint(dir: string, tensors: TensorMap, options: ShardOptions = {}): string[] {
  const maxShardBytes = options.maxShardBytes ?? 5_000_000_000;
  const metadata = options.metadata ?? { format: 'pt' };
  const named = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)) as [string, WritableTensor][];
  named.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

  const shards: [string, WritableTensor][][] = [];
  let current: [string, WritableTensor][] = [];
  let size = 0;
  let total = 0;
  for (const entry of named) {
    const bytes = byteLengthOf(entry[1]);
    if (current.length > 0 && size + bytes > maxShardBytes) {
      shards.push(current);
      current = [];
      size = 0;
    }
    current.push(entry);
    size += bytes;
    total += bytes;
  }
  shards.push(current);

  if (shards.length === 1) {
    const path = join(dir, SINGLE_FILE);
    writeSafetensors(path, new Map(shards[0]), metadata);
    removeStale(dir, new Set());
    if (existsSync(join(dir, INDEX_FILE))) unlinkSync(join(dir, INDEX_FILE));
    return [path];
  }

  const n = shards.length;
  const names = shards.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`);
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    writeSafetensors(join(dir, names[i]!), new Map(shard), metadata);
    for (const [name] of shard) weightMap[name] = names[i]!;
  });
  const index = { metadata: { total_size: total }, weight_map: weightMap };
  writeFileAtomic(join(dir, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
  removeStale(dir, new Set(names));
  if (existsSync(join(dir, SINGLE_FILE))) unlinkSync(join(dir, SINGLE_FILE));
  return [...names.map((f) => join(dir, f)), join(dir, INDEX_FILE)];
}

function removeStale(dir: string, keep: Set<string>): void {
  for (const f of readdirSync(dir)) if (SHARD_PATTERN.test(f) && !keep.has(f)) unlinkSync(join(dir, f));
}
