/**
 * Lazy reader for one .safetensors file. Opening reads only the header; the file descriptor stays
 * open and each `read(name)` pulls that tensor's bytes with a positioned read into a fresh
 * ArrayBuffer (offset 0, so aligned for any typed array). Loading a model therefore needs little
 * more memory than the tensors it keeps, and a tensor never read is never paged in.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { FormatError, MissingFileError, withFile } from '../errors.ts';
import { dtypeSize, viewAs, type StoredTensor } from './dtypes.ts';
import { headerLength, parseHeader, type TensorInfo } from './header.ts';
import type { TensorSource } from './source.ts';

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
    if (!stat.isFile()) throw new MissingFileError(path, stat.isDirectory() ? 'is a directory, expected a .safetensors file' : 'not a regular file');
    const size = stat.size;
    const prefix = new Uint8Array(8);
    if (size >= 8) readFully(path, fd, prefix, 0);
    const n = headerLength(path, prefix, size);
    const headerBytes = new Uint8Array(n);
    readFully(path, fd, headerBytes, 8);
    const header = parseHeader(path, headerBytes, 8 + n, size - 8 - n);
    return new LazyFile(path, fd, header.metadata, header.tensors);
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
    if (got === 0) throw new FormatError(path, `file ended at byte ${position + done}, expected ${dst.length - done} more (truncated?)`, tensor);
    done += got;
  }
}

class LazyFile implements SafetensorsFile {
  private fd: number | undefined;

  constructor(
    readonly path: string,
    fd: number,
    readonly metadata: Readonly<Record<string, string>>,
    private readonly tensors: ReadonlyMap<string, TensorInfo>,
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
    const bytes = this.readBytes(name); // fresh ArrayBuffer at offset 0: aligned for every dtype
    const length = info.byteLength / dtypeSize(info.dtype);
    return { dtype: info.dtype, shape: info.shape, data: viewAs(info.dtype, bytes.buffer as ArrayBuffer, 0, length) } as StoredTensor;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
