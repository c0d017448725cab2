/**
 * A Hugging Face checkpoint folder, single-file or sharded, behind one TensorSource:
 *
 * - single: `model.safetensors`;
 * - sharded: `model.safetensors.index.json` = {metadata: {total_size, ...}, weight_map: {tensor name:
 *   shard file name}} next to the shards it names (DeepSeek-V3 ships 163 of them).
 *
 * Every shard's header is read and checked against the index on open, so a missing or mismatched
 * shard is reported before any model is built; tensor data is still read only on demand.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FormatError, MissingFileError, withFile } from '../errors.ts';
import type { StoredTensor } from './dtypes.ts';
import { openSafetensors, type SafetensorsFile } from './file.ts';
import type { TensorInfo } from './header.ts';
import type { TensorSource } from './source.ts';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface Checkpoint extends TensorSource {
  /** The file opened: a .safetensors file or the index JSON. */
  readonly path: string;
  readonly layout: 'single' | 'sharded';
  /** The safetensors files behind it, in index order. */
  readonly files: readonly string[];
  /** A single file's "__metadata__", or a sharded index's "metadata" object (e.g. total_size). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** The safetensors file holding `name`. */
  fileOf(name: string): string;
}

/**
 * Opens a checkpoint from a folder (index preferred over a single file, as transformers does), an
 * index JSON, or a .safetensors file. Throws MissingFileError / FormatError naming the file at fault.
 */
export function openCheckpoint(path: string): Checkpoint {
  const stat = withFile(path, () => statSync(path));
  if (stat.isDirectory()) {
    const index = join(path, INDEX_FILE);
    if (existsSync(index)) return openSharded(index);
    const single = join(path, SINGLE_FILE);
    if (existsSync(single)) return openSingle(single);
    throw new MissingFileError(path, `no ${INDEX_FILE} or ${SINGLE_FILE} in this folder`);
  }
  if (path.endsWith('.json')) return openSharded(path);
  return openSingle(path);
}

function openSingle(path: string): Checkpoint {
  const file = openSafetensors(path);
  return {
    path,
    layout: 'single',
    files: [path],
    metadata: file.metadata,
    fileOf: (name) => {
      file.info(name); // throws FormatError for a name the file lacks
      return path;
    },
    names: () => file.names(),
    has: (name) => file.has(name),
    info: (name) => file.info(name),
    read: (name) => file.read(name),
    prefetch: () => file.prefetch(),
    release: (name) => file.release(name),
    close: () => file.close(),
  };
}

function parseIndex(indexPath: string): { metadata: Record<string, unknown>; weightMap: Map<string, string> } {
  const text = withFile(indexPath, () => readFileSync(indexPath, 'utf8'));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(indexPath, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FormatError(indexPath, 'must be a JSON object');
  const { metadata = {}, weight_map: map } = json as Record<string, unknown>;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw new FormatError(indexPath, 'must be an object', 'metadata');
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new FormatError(indexPath, 'missing or not an object of tensor name → shard file', 'weight_map');
  const weightMap = new Map<string, string>();
  for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
    // Shards must sit beside the index: a path would let an index read arbitrary files.
    if (typeof file !== 'string' || file === '' || file !== basename(file) || file === '.' || file === '..') {
      throw new FormatError(indexPath, `shard must be a file name in the same folder, got ${JSON.stringify(file)}`, `weight_map.${name}`);
    }
    weightMap.set(name, file);
  }
  return { metadata: metadata as Record<string, unknown>, weightMap };
}

function openSharded(indexPath: string): Checkpoint {
  const { metadata, weightMap } = parseIndex(indexPath);
  const dir = dirname(resolve(indexPath));
  const shards = new Map<string, SafetensorsFile>();
  const closeAll = () => {
    for (const f of shards.values()) f.close();
  };
  try {
    for (const shard of new Set(weightMap.values())) shards.set(shard, openSafetensors(join(dir, shard)));
    for (const [name, shard] of weightMap) {
      if (!shards.get(shard)!.has(name)) throw new FormatError(join(dir, shard), `listed in ${INDEX_FILE} but not in this shard`, name);
    }
  } catch (e) {
    closeAll();
    throw e;
  }
  const sorted = [...weightMap.keys()].sort();
  const fileFor = (name: string): SafetensorsFile => {
    const shard = weightMap.get(name);
    if (shard === undefined) throw new FormatError(indexPath, 'no tensor of this name in the weight_map', name);
    return shards.get(shard)!;
  };
  return {
    path: indexPath,
    layout: 'sharded',
    files: [...shards.values()].map((f) => f.path),
    metadata,
    fileOf: (name) => fileFor(name).path,
    names: () => [...sorted],
    has: (name) => weightMap.has(name),
    info: (name): TensorInfo => fileFor(name).info(name),
    read: (name): StoredTensor => fileFor(name).read(name),
    prefetch: () => {
      for (const f of shards.values()) f.prefetch();
    },
    release: (name) => fileFor(name).release(name),
    close: closeAll,
  };
}
