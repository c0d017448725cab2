/**
 * Lazy reader for one .safetensors file. Opening reads only the header. Where the native addon is
 * built, the file is memory-mapped and `read(name)` returns a view of the mapped bytes — no copy: the
 * weights live in the page cache, shared with any other process reading the file, and a model is
 * limited by RAM alone. Otherwise (or with DSTS_MMAP=0, or a tensor misaligned for its dtype) each
 * read pulls that tensor's bytes with a positioned read into a fresh, aligned ArrayBuffer. Either
 * way a tensor never read is never paged in.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { FormatError, MissingFileError, withFile } from '../errors.ts';
import { dtypeSize, viewAs, type StoredTensor } from './dtypes.ts';
import { headerLength, parseHeader, type TensorInfo } from './header.ts';
import type { TensorSource } from './source.ts';
import { loadNativeAddon, type MappedFile, type NativeAddon } from '../../kernels/native/addon.ts';

export interface SafetensorsFile extends TensorSource {
  readonly path: string;
  /** The header's "__metadata__" (e.g. {format: "pt"}); empty when absent. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Reads a tensor's raw bytes, into `dst` (exactly byteLength long) when given. */
  readBytes(name: string, dst?: Uint8Array): Uint8Array;
}

/** Largest single positioned read; bigger tensors are read in pieces (readSync caps near 2 GiB). */
const CHUNK = 1 << 30;

/** Opens `path` and validates its header. Throws MissingFileError / FormatError naming the file. */
export function openSafetensors(path: string): SafetensorsFile {
  if (endianness() !== 'LE') throw new Error('safetensors data is little-endian; big-endian hosts are not supported');
  const fd = withFile(path, () => openSync(path, 'r'));
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new MissingFileError(path, stat.isDirectory() ? 'is a directory, expected a .safetensors file' : 'not a regular file');
    const size = stat.size;
    const prefix = new Uint8Array(8);
    if (size >= 8) readFully(path, fd, prefix, 0);
    const n = headerLength(path, prefix, size);
    const headerBytes = new Uint8Array(n);
    readFully(path, fd, headerBytes, 8);
    const header = parseHeader(path, headerBytes, 8 + n, size - 8 - n);
    return new LazyFile(path, fd, header.metadata, header.tensors, mapIfPossible(path));
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Fills `dst` from `position`, looping over short reads; a premature end is a truncated file. */
function readFully(path: string, fd: number, dst: Uint8Array, position: number, tensor?: string): void {
  let done = 0;
  while (done < dst.length) {
    const want = Math.min(CHUNK, dst.length - done);
    const got = readSync(fd, dst, done, want, position + done);
    if (got === 0)
      throw new FormatError(path, `file ended at byte ${position + done}, expected ${dst.length - done} more (truncated?)`, tensor);
    done += got;
  }
}

/** A memory map of `path` through the native addon, or null (no addon, DSTS_MMAP=0, or mmap refused). */
function mapIfPossible(path: string): { addon: NativeAddon; file: MappedFile } | null {
  if (process.env.DSTS_MMAP === '0') return null;
  const addon = loadNativeAddon();
  if (!addon) return null;
  try {
    return { addon, file: addon.mapFile(path) };
  } catch {
    return null; // e.g. a file system without mmap: positioned reads still work
  }
}

class LazyFile implements SafetensorsFile {
  private fd: number | undefined;

  constructor(
    readonly path: string,
    fd: number,
    readonly metadata: Readonly<Record<string, string>>,
    private readonly tensors: ReadonlyMap<string, TensorInfo>,
    private map: { addon: NativeAddon; file: MappedFile } | null,
  ) {
    this.fd = fd;
  }

  names(): string[] {
    return [...this.tensors.keys()].sort();
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (info === undefined) throw new FormatError(this.path, 'no tensor of this name in the file', name);
    return info;
  }

  readBytes(name: string, dst?: Uint8Array): Uint8Array {
    const info = this.info(name);
    if (this.fd === undefined) throw new Error(`${this.path}: read after close`);
    if (dst !== undefined && dst.length !== info.byteLength) {
      throw new RangeError(`${this.path}: '${name}' has ${info.byteLength} bytes, destination has ${dst.length}`);
    }
    const out = dst ?? new Uint8Array(new ArrayBuffer(info.byteLength));
    readFully(this.path, this.fd, out, info.byteOffset, name);
    return out;
  }

  read(name: string): StoredTensor {
    const info = this.info(name);
    if (this.fd === undefined) throw new Error(`${this.path}: read after close`);
    const size = dtypeSize(info.dtype);
    const length = info.byteLength / size;
    if (this.map && info.byteOffset % size === 0) {
      // The mapped bytes themselves: private and copy-on-write, so writing to them never changes the file.
      const buffer = this.map.addon.mapView(this.map.file.handle, info.byteOffset, info.byteLength);
      return { dtype: info.dtype, shape: info.shape, data: viewAs(info.dtype, buffer, 0, length) } as StoredTensor;
    }
    const bytes = this.readBytes(name); // fresh ArrayBuffer at offset 0: aligned for every dtype
    return { dtype: info.dtype, shape: info.shape, data: viewAs(info.dtype, bytes.buffer as ArrayBuffer, 0, length) } as StoredTensor;
  }

  prefetch(): void {
    if (!this.map || this.tensors.size === 0) return;
    let lo = Infinity;
    let hi = 0;
    for (const t of this.tensors.values()) {
      lo = Math.min(lo, t.byteOffset);
      hi = Math.max(hi, t.byteOffset + t.byteLength);
    }
    this.map.addon.populate(this.map.file.handle, lo, hi - lo);
  }

  release(name: string): void {
    const info = this.info(name);
    this.map?.addon.dropPages(this.map.file.handle, info.byteOffset, info.byteLength);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.map = null; // views already handed out keep the mapping alive until they are collected
  }
}
