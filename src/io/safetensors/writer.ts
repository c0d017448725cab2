/**
 * Writes a .safetensors file the way the reference implementation does, byte for byte: tensors laid
 * out by descending dtype (so every tensor starts aligned to its element size), then by name; the
 * JSON header compact, in that same order, "__metadata__" first, padded with spaces to a multiple
 * of 8 bytes. The file is written beside the target under a temporary name, flushed, then renamed
 * over it, so an interrupted save never leaves a half-written file where the user's was.
 */
import { endianness } from 'node:os';
import { writeAll, writeAtomic } from './atomic.ts';
import { dtypeRank, dtypeSize, holdsDType, isSafetensorsDType, numel, type StoredTensor } from './dtypes.ts';

/**
 * A tensor whose data is made only when it is written (one at a time), so a checkpoint larger than
 * memory can be written: quantised from another file, or random weights for a benchmark.
 */
export interface DeferredTensor {
  dtype: StoredTensor['dtype'];
  shape: readonly number[];
  /** Returns the data (numel(shape) elements of the dtype's array); called once, at write time. */
  produce(): StoredTensor['data'];
}

export type WritableTensor = StoredTensor | DeferredTensor;

/** Tensors by name: a plain object or a Map (insertion order does not matter; layout is canonical). */
export type TensorMap = Readonly<Record<string, WritableTensor>> | ReadonlyMap<string, WritableTensor>;

/** Bytes a tensor takes in the file. */
export function byteLengthOf(t: { dtype: StoredTensor['dtype']; shape: readonly number[] }): number {
  return numel(t.shape) * dtypeSize(t.dtype);
}

/** The tensor's data (made now for a deferred one), checked against its dtype and shape. */
function dataOf(name: string, t: WritableTensor): StoredTensor['data'] {
  if ('data' in t) return t.data;
  const data = t.produce();
  check(name, { dtype: t.dtype, shape: t.shape, data } as StoredTensor);
  return data;
}

/** Orders names as Rust's `str::cmp` does (by UTF-8 bytes), which differs from JS `<` beyond the BMP. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function entries(tensors: TensorMap): [string, WritableTensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, WritableTensor>);
}

/** Checks one tensor before anything is written; a mistake here is the caller's, so a TypeError. */
function check(name: string, t: WritableTensor): void {
  if (name === '__metadata__') throw new TypeError(`writeSafetensors: '__metadata__' is reserved and cannot name a tensor`);
  if (!isSafetensorsDType(t.dtype)) throw new TypeError(`writeSafetensors: '${name}' has unknown dtype ${JSON.stringify(t.dtype)}`);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new TypeError(`writeSafetensors: '${name}' has invalid shape [${t.shape.join(', ')}]`);
  if (!('data' in t)) return; // checked when produced
  if (!holdsDType(t.dtype, t.data))
    throw new TypeError(`writeSafetensors: '${name}' is ${t.dtype} but its data is a ${t.data.constructor.name}`);
  if (t.data.length !== numel(t.shape)) {
    throw new TypeError(
      `writeSafetensors: '${name}' has shape [${t.shape.join(', ')}] (${numel(t.shape)} elements) but ${t.data.length} elements of data`,
    );
  }
}

/** The header bytes (length prefix included, padded) and the tensors in file order. */
function layout(tensors: TensorMap, metadata?: Readonly<Record<string, string>>): { header: Buffer; order: [string, WritableTensor][] } {
  const order = entries(tensors);
  for (const [name, t] of order) check(name, t);
  order.sort(([an, a], [bn, b]) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || byteOrder(an, bn));
  // Built by hand, not JSON.stringify of an object: JS objects put integer-like keys first, which
  // would break the offset order that keeps tensors aligned.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const meta = Object.entries(metadata).map(([k, v]) => {
      if (typeof v !== 'string') throw new TypeError(`writeSafetensors: metadata '${k}' must be a string`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${meta.join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of order) {
    const n = byteLengthOf(t);
    parts.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + n}]}`);
    offset += n;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const header = Buffer.alloc(8 + json.length + ((8 - (json.length % 8)) % 8), 0x20);
  header.writeBigUInt64LE(BigInt(header.length - 8), 0);
  json.copy(header, 8);
  return { header, order };
}

/**
 * Writes `tensors` (and optional string metadata, e.g. {format: "pt"}) to `path` atomically.
 * Invalid tensors (dtype/data mismatch, wrong element count) throw a TypeError before any I/O.
 */
export function writeSafetensors(path: string, tensors: TensorMap, metadata?: Readonly<Record<string, string>>): void {
  if (endianness() !== 'LE') throw new Error('safetensors data is little-endian; big-endian hosts are not supported');
  const { header, order } = layout(tensors, metadata);
  writeAtomic(path, (fd) => {
    writeAll(fd, header);
    for (const [name, t] of order) {
      const data = dataOf(name, t);
      writeAll(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  });
}
