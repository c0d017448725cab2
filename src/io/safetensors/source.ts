/**
 * What every tensor container offers, whether one safetensors file or a sharded checkpoint: list
 * names, describe a tensor without reading it, read one tensor, close. Model loaders take this, so
 * they do not care how a checkpoint is laid out on disk.
 */
import type { StoredTensor } from './dtypes.ts';
import type { TensorInfo } from './header.ts';

export interface TensorSource {
  /** Tensor names, sorted. */
  names(): string[];
  has(name: string): boolean;
  /** dtype, shape and byte size of a tensor, without reading it. Throws FormatError for an unknown name. */
  info(name: string): TensorInfo;
  /** Reads one tensor's bytes from disk into a fresh, aligned typed array. */
  read(name: string): StoredTensor;
  /**
   * Brings every tensor's bytes into memory now (a memory-mapped file is faulted in at disk or page
   * cache speed), so the first forward pass does not pay for it. A no-op where reads copy anyway.
   */
  prefetch(): void;
  /**
   * Says that `name`'s stored bytes will not be read again (its data was converted, e.g. quantised):
   * a mapped file returns those pages to the page cache, so they stop counting as this process's memory.
   */
  release(name: string): void;
  /** Releases the open file descriptors; reading afterwards throws. Safe to call twice. */
  close(): void;
}
