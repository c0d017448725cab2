// Writing: round trips of every dtype, the reference implementation's own byte-exact vectors, the
// layout rules its stricter reader enforces, validation, and atomic replacement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors, dtypeSize, SAFETENSORS_DTYPES, type StoredTensor } from '../../src/io/safetensors/index.ts';
import { tempDir } from './tmp.ts';

/** One tensor of each dtype with distinctive values, including each type's extremes. */
function everyDtype(): Record<string, StoredTensor> {
  return {
    bool: { dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
    u8: { dtype: 'U8', shape: [2, 2], data: new Uint8Array([0, 1, 254, 255]) },
    i8: { dtype: 'I8', shape: [3], data: new Int8Array([-128, 0, 127]) },
    e5m2: { dtype: 'F8_E5M2', shape: [2], data: new Uint8Array([0x3c, 0xfc]) },
    e4m3: { dtype: 'F8_E4M3', shape: [2], data: new Uint8Array([0x38, 0x7f]) },
    i16: { dtype: 'I16', shape: [2], data: new Int16Array([-32768, 32767]) },
    u16: { dtype: 'U16', shape: [2], data: new Uint16Array([0, 65535]) },
    f16: { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0x7e00]) },
    bf16: { dtype: 'BF16', shape: [1, 3], data: new Uint16Array([0x3f80, 0xffff, 0x0001]) },
    i32: { dtype: 'I32', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) },
    u32: { dtype: 'U32', shape: [1], data: new Uint32Array([2 ** 32 - 1]) },
    f32: { dtype: 'F32', shape: [2, 1, 2], data: new Float32Array([1.5, -0, NaN, -Infinity]) },
    f64: { dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -1e300]) },
    i64: { dtype: 'I64', shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
    u64: { dtype: 'U64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([42]) },
    empty: { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
    '10': { dtype: 'U8', shape: [1], data: new Uint8Array([10]) }, // integer-like names must not reorder the header
    '2': { dtype: 'U8', shape: [1], data: new Uint8Array([2]) },
    'naïve.ünïcode': { dtype: 'I8', shape: [1], data: new Int8Array([-1]) },
  };
}

const bytesOf = (a: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('every dtype round-trips bit for bit, with metadata', (t) => {
  const path = join(tempDir(t), 'all.safetensors');
  const tensors = everyDtype();
  assert.equal(new Set(Object.values(tensors).map((x) => x.dtype)).size, SAFETENSORS_DTYPES.length, 'covers every dtype');
  writeSafetensors(path, tensors, { format: 'pt', note: 'üñí "quoted"' });
  const f = openSafetensors(path);
  try {
    assert.deepEqual(f.metadata, { format: 'pt', note: 'üñí "quoted"' });
    assert.deepEqual(f.names(), Object.keys(tensors).sort());
    for (const [name, want] of Object.entries(tensors)) {
      const got = f.read(name);
      assert.equal(got.dtype, want.dtype, name);
      assert.deepEqual(got.shape, want.shape, name);
      assert.equal(got.data.constructor, want.data.constructor, name);
      assert.ok(bytesOf(got.data).equals(bytesOf(want.data)), `${name}: bytes differ`);
    }
  } finally {
    f.close();
  }
});

test("matches the reference implementation's serialisation test vectors byte for byte", (t) => {
  const dir = tempDir(t);
  // safetensors' test_serialization: attn.0, F32 [1, 2, 3] = 0..5.
  writeSafetensors(join(dir, 'a'), { 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
  const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
  const want = Buffer.concat([Buffer.from([64, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(header), bytesOf(new Float32Array([0, 1, 2, 3, 4, 5]))]);
  assert.ok(readFileSync(join(dir, 'a')).equals(want));
  // test_empty: no tensors → "{}" padded with six spaces; with metadata {framework: pt} → padded to 40.
  writeSafetensors(join(dir, 'b'), {});
  assert.deepEqual([...readFileSync(join(dir, 'b'))], [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  writeSafetensors(join(dir, 'c'), {}, { framework: 'pt' });
  assert.equal(readFileSync(join(dir, 'c')).toString('latin1'), '\x28\0\0\0\0\0\0\0{"__metadata__":{"framework":"pt"}}     ');
  // test_serialization_forced_alignement: a 7-space pad so the f32 data starts 8-aligned.
  writeSafetensors(join(dir, 'd'), { attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
  const d = readFileSync(join(dir, 'd'));
  assert.equal(d.readBigUInt64LE(0), 72n);
  assert.equal(d.subarray(8, 80).toString(), '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       ');
});

test('written files satisfy the reference reader: header padded to 8, contiguous offsets, aligned tensors, exact size', (t) => {
  const path = join(tempDir(t), 'layout.safetensors');
  writeSafetensors(path, everyDtype(), { format: 'pt' });
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0, 'data section starts 8-aligned');
  const text = bytes.subarray(8, 8 + n).toString('utf8');
  assert.ok(text.startsWith('{') && /^[^]*\} *$/.test(text), 'JSON padded with spaces only');
  const header = JSON.parse(text) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const entries = Object.entries(header).filter(([k]) => k !== '__metadata__');
  entries.sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  let at = 0;
  for (const [name, e] of entries) {
    assert.equal(e.data_offsets[0], at, `${name} starts where the previous ended`);
    assert.equal((8 + n + at) % dtypeSize(e.dtype as never), 0, `${name} aligned to its element size`);
    at = e.data_offsets[1];
  }
  assert.equal(8 + n + at, bytes.length, 'data covers the rest of the file exactly');
  assert.ok(text.startsWith('{"__metadata__":'), 'metadata first');
  // Integer-like names stay in layout order in the text (a JS object would have hoisted them).
  assert.ok(text.indexOf('"10"') < text.indexOf('"2"') && text.indexOf('"2"') < text.indexOf('"bool"'));
});

test('bad tensors are refused before anything is written', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'x.safetensors');
  const bad: [string, Record<string, StoredTensor>, RegExp][] = [
    [
      'wrong array type',
      { w: { dtype: 'BF16', shape: [2], data: new Float32Array(2) as never } },
      /'w' is BF16 but its data is a Float32Array/,
    ],
    ['wrong length', { w: { dtype: 'F32', shape: [2, 3], data: new Float32Array(5) } }, /'w' has shape \[2, 3\] \(6 elements\) but 5/],
    ['unknown dtype', { w: { dtype: 'F4' as never, shape: [1], data: new Uint8Array(1) as never } }, /unknown dtype "F4"/],
    ['bad shape', { w: { dtype: 'U8', shape: [-1], data: new Uint8Array(0) } }, /invalid shape/],
    ['reserved name', { __metadata__: { dtype: 'U8', shape: [1], data: new Uint8Array(1) } }, /reserved/],
  ];
  for (const [what, tensors, message] of bad) assert.throws(() => writeSafetensors(path, tensors), message, what);
  assert.deepEqual(readdirSync(dir), [], 'no file, no temporary left behind');
});

test("a write that fails midway leaves the user's existing file untouched and no temporary behind", (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'model.safetensors');
  writeFileSync(path, 'the user’s precious file');
  // Passes validation, then fails while its bytes are being written (as a full disk would).
  class Failing extends Float32Array {
    override get buffer(): ArrayBuffer {
      throw new Error('simulated write failure');
    }
  }
  assert.throws(() => writeSafetensors(path, { w: { dtype: 'F32', shape: [4], data: new Failing(4) } }), /simulated write failure/);
  assert.equal(readFileSync(path, 'utf8'), 'the user’s precious file');
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  // A successful write replaces it.
  writeSafetensors(path, { w: { dtype: 'F32', shape: [1], data: new Float32Array([7]) } });
  const f = openSafetensors(path);
  assert.deepEqual([...(f.read('w').data as Float32Array)], [7]);
  f.close();
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
});

test('writing into a folder that does not exist is a one-line user error', (t) => {
  const path = join(tempDir(t), 'missing', 'x.safetensors');
  assert.throws(
    () => writeSafetensors(path, {}),
    (e: Error) => e.name === 'MissingFileError' && e.message.includes('missing'),
  );
});
