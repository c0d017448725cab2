// Corrupt and truncated files: each is one FormatError (or MissingFileError) naming the file and,
// where one is at fault, the tensor; never a crash, a hang or a misread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors } from '../../src/io/safetensors/index.ts';
import { FormatError, MissingFileError, UserFacingError } from '../../src/io/errors.ts';
import { tempDir } from './tmp.ts';

/** A file from a header (object or raw text), data bytes, and optionally a lying length prefix. */
function craft(header: object | string | Uint8Array, data = new Uint8Array(0), length?: bigint): Buffer {
  const h = header instanceof Uint8Array ? Buffer.from(header) : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(length ?? BigInt(h.length));
  return Buffer.concat([prefix, h, data]);
}

const f32x2 = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

/** Expects opening `bytes` to throw a FormatError whose message names the file and matches `detail`. */
function expectFormatError(dir: string, what: string, bytes: Buffer, detail: RegExp, tensor?: string): void {
  const path = join(dir, `${what.replace(/\W+/g, '_')}.safetensors`);
  writeFileSync(path, bytes);
  assert.throws(
    () => openSafetensors(path).close(),
    (e: unknown) => {
      assert.ok(e instanceof FormatError, `${what}: expected FormatError, got ${String(e)}`);
      assert.ok(e instanceof UserFacingError);
      assert.equal(e.file, path, what);
      assert.ok(e.message.startsWith(path), `${what}: message names the file: ${e.message}`);
      assert.match(e.message, detail, what);
      if (tensor !== undefined) assert.equal(e.key, tensor, `${what}: names the tensor`);
      assert.ok(!e.message.includes('\n'), `${what}: one line`);
      return true;
    },
    what,
  );
}

test('corrupt headers are reported as FormatError naming file and tensor', (t) => {
  const dir = tempDir(t);
  const eight = new Uint8Array(8);
  const cases: [string, Buffer, RegExp, string?][] = [
    ['empty file', Buffer.alloc(0), /too short/],
    ['shorter than the length prefix', Buffer.from([1, 2, 3]), /too short/],
    ['header length past end of file', craft({ w: f32x2 }, eight, 10_000n), /runs past the end.*truncated/],
    ['absurd header length', craft({}, eight, 2n ** 62n), /exceeds 100000000 bytes/],
    ['header not UTF-8', craft(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /not valid UTF-8/],
    ['header not JSON', craft('{"w": {"dtype": "F32",'), /not valid JSON/],
    ['header not an object', craft('[1,2,3]'), /does not start with "\{"/],
    ['header JSON null', craft('{}'.replace('{}', 'null')), /does not start with "\{"/],
    ['unknown dtype', craft({ w: { ...f32x2, dtype: 'F4' } }, eight), /unknown dtype "F4"/, 'w'],
    [
      'shape/byte count mismatch',
      craft({ w: { ...f32x2, shape: [3] } }, new Uint8Array(12)),
      /shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] span 8/,
      'w',
    ],
    ['negative dimension', craft({ w: { ...f32x2, shape: [-2] } }, eight), /non-negative integers/, 'w'],
    ['fractional dimension', craft({ w: { ...f32x2, shape: [1.5] } }, eight), /non-negative integers/, 'w'],
    ['offsets not a pair', craft({ w: { ...f32x2, data_offsets: [0] } }, eight), /\[begin, end\]/, 'w'],
    ['offsets reversed', craft({ w: { ...f32x2, data_offsets: [8, 0] } }, eight), /end before they begin/, 'w'],
    [
      'data past end (truncated file)',
      craft({ a: f32x2, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, new Uint8Array(12)),
      /run past the 12 bytes of data.*truncated/,
      'b',
    ],
    [
      'overlapping tensors',
      craft(
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
        new Uint8Array(12),
      ),
      /overlap those of 'a'/,
      'b',
    ],
    ['entry not an object', craft({ w: 3 }), /must be an object/, 'w'],
    ['missing dtype', craft({ w: { shape: [2], data_offsets: [0, 8] } }, eight), /unknown dtype undefined/, 'w'],
    ['metadata not strings', craft({ __metadata__: { step: 3 } }), /value of 'step' must be a string/, '__metadata__'],
  ];
  for (const [what, bytes, detail, tensor] of cases) expectFormatError(dir, what, bytes, detail, tensor);
});

test('a file truncated inside its header or its data is caught on open', (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'good.safetensors');
  writeSafetensors(good, {
    a: { dtype: 'F32', shape: [4], data: new Float32Array(4) },
    b: { dtype: 'BF16', shape: [3], data: new Uint16Array(3) },
  });
  const bytes = readFileSync(good);
  const headerEnd = 8 + Number(bytes.readBigUInt64LE(0));
  expectFormatError(dir, 'cut in header', bytes.subarray(0, headerEnd - 5), /runs past the end/);
  expectFormatError(dir, 'cut in data', bytes.subarray(0, bytes.length - 1), /truncated/, 'b');
});

test('a missing file is a MissingFileError naming it; an unknown tensor a FormatError naming both', (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'nope.safetensors');
  assert.throws(
    () => openSafetensors(missing),
    (e: unknown) => e instanceof MissingFileError && e.message === `${missing}: no such file or directory`,
  );
  assert.throws(
    () => openSafetensors(dir),
    (e: unknown) => e instanceof UserFacingError && e.message.includes(dir),
  );
  const path = join(dir, 'ok.safetensors');
  writeSafetensors(path, { a: { dtype: 'U8', shape: [1], data: new Uint8Array([1]) } });
  const f = openSafetensors(path);
  assert.throws(
    () => f.info('b'),
    (e: unknown) => e instanceof FormatError && e.key === 'b' && e.file === path,
  );
  f.close();
  f.close(); // idempotent
});
