/**
 * Memory-mapped safetensors: tensors read through the map equal positioned reads, are private (writing
 * into one never changes the file), survive the file being closed, and a tensor whose offset is
 * misaligned for its dtype falls back to a copy.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { openSafetensors, writeSafetensors } from '../../src/io/safetensors/index.ts';
import { loadNativeAddon } from '../../src/kernels/native/addon.ts';
import { tempDir } from './tmp.ts';

const native = loadNativeAddon();
const skip = native ? false : 'the native addon is not built (npm run build:native): no memory maps';

function withMmap<T>(on: boolean, body: () => T): T {
  const prev = process.env.DSTS_MMAP;
  process.env.DSTS_MMAP = on ? '1' : '0';
  try {
    return body();
  } finally {
    if (prev === undefined) delete process.env.DSTS_MMAP;
    else process.env.DSTS_MMAP = prev;
  }
}

it('mapped reads equal copied reads, stay private, and outlive close()', { skip }, (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'm.safetensors');
  const a = Float32Array.from({ length: 1000 }, (_, i) => i * 0.5);
  const b = Uint16Array.from({ length: 333 }, (_, i) => i);
  writeSafetensors(path, { a: { dtype: 'F32', shape: [10, 100], data: a }, b: { dtype: 'BF16', shape: [333], data: b } });
  const before = readFileSync(path);
  const copied = withMmap(false, () => {
    const f = openSafetensors(path);
    const r = { a: f.read('a').data.slice(), b: f.read('b').data.slice() };
    f.close();
    return r;
  });
  const f = withMmap(true, () => openSafetensors(path));
  const ma = f.read('a').data as Float32Array;
  const mb = f.read('b').data as Uint16Array;
  assert.deepEqual(ma, copied.a);
  assert.deepEqual(mb, copied.b);
  f.prefetch();
  ma[0] = 12345; // copy-on-write: this process only
  assert.equal(ma[0], 12345);
  assert.deepEqual(readFileSync(path), before, 'the file is unchanged');
  assert.equal((f.read('a').data as Float32Array)[0], 12345, 'this process sees its own copy of the page');
  const g = withMmap(true, () => openSafetensors(path));
  assert.equal((g.read('a').data as Float32Array)[0], 0, 'a new map of the file sees the file');
  g.close();
  f.close();
  assert.equal(mb[332], 332, 'views stay valid after close');
  assert.throws(() => f.read('a'), /after close/);
});

it('a tensor misaligned for its dtype is copied, with the right values', { skip }, (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'odd.safetensors');
  // Hand-made: a 1-byte U8 tensor first puts the F32 tensor at data offset 1.
  const header = Buffer.from(
    JSON.stringify({ u: { dtype: 'U8', shape: [1], data_offsets: [0, 1] }, f: { dtype: 'F32', shape: [2], data_offsets: [1, 9] } }),
  );
  const pad = (8 - (header.length % 8)) % 8;
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length + pad));
  const data = Buffer.alloc(9);
  data[0] = 7;
  data.writeFloatLE(1.5, 1);
  data.writeFloatLE(-2.25, 5);
  writeFileSync(path, Buffer.concat([len, header, Buffer.alloc(pad, 0x20), data]));
  const f = withMmap(true, () => openSafetensors(path));
  assert.deepEqual([...(f.read('f').data as Float32Array)], [1.5, -2.25]);
  assert.deepEqual([...(f.read('u').data as Uint8Array)], [7]);
  f.close();
});
