/** The bf16 / f16 / fp8 decoders against PyTorch's values (../shared/fixtures/codecs.safetensors). */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { bf16ToF32, e4m3DecodeTable, e5m2DecodeTable, f16DecodeTable } from '../../src/kernels/decode-tables.ts';

const FIXTURE = new URL('../../../shared/fixtures/codecs.safetensors', import.meta.url);

/** Minimal safetensors reader (header JSON + raw little-endian data), enough for this fixture. */
function readSafetensors(path: URL): Record<string, ArrayBufferView> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString()) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const out: Record<string, ArrayBufferView> = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const bytes = buf.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    const copy = new Uint8Array(bytes).buffer;
    out[name] = t.dtype === 'F32' ? new Float32Array(copy) : t.dtype === 'I16' ? new Uint16Array(copy) : new Uint8Array(copy);
  }
  return out;
}

const sameF32 = (a: number, b: number) => Object.is(Math.fround(a), Math.fround(b)) || (Number.isNaN(a) && Number.isNaN(b));

describe('decode tables', () => {
  it('known codes', () => {
    assert.equal(bf16ToF32(0x3f80), 1);
    assert.equal(bf16ToF32(0xc040), -3);
    const f16 = f16DecodeTable();
    assert.equal(f16[0x3c00], 1);
    assert.equal(f16[0x0001], 2 ** -24);
    assert.equal(f16[0x7bff], 65504);
    assert.equal(f16[0xfc00], -Infinity);
    assert.ok(Number.isNaN(f16[0x7e00]!));
    const e4 = e4m3DecodeTable();
    assert.equal(e4[0x7e], 448);
    assert.equal(e4[0x01], 2 ** -9);
    assert.equal(e4[0x38], 1);
    assert.ok(Number.isNaN(e4[0x7f]!) && Number.isNaN(e4[0xff]!));
    assert.ok(Object.is(e4[0x80], -0));
    const e5 = e5m2DecodeTable();
    assert.equal(e5[0x7b], 57344);
    assert.equal(e5[0x7c], Infinity);
    assert.equal(e5[0x01], 2 ** -16);
    assert.ok(Number.isNaN(e5[0x7d]!));
  });

  it('match PyTorch bit for bit on the codecs fixture', { skip: existsSync(FIXTURE) ? false : 'shared fixtures absent' }, () => {
    const t = readSafetensors(FIXTURE);
    const input = t.input_f32 as Float32Array;
    const e4bits = t.e4m3fn_bits as Uint8Array,
      e4back = t.e4m3fn_back_f32 as Float32Array;
    const e5bits = t.e5m2_bits as Uint8Array,
      e5back = t.e5m2_back_f32 as Float32Array;
    const e4 = e4m3DecodeTable(),
      e5 = e5m2DecodeTable(),
      f16 = f16DecodeTable();
    for (let i = 0; i < input.length; i++) {
      assert.ok(sameF32(e4[e4bits[i]!]!, e4back[i]!), `e4m3 code ${e4bits[i]}: ${e4[e4bits[i]!]} vs ${e4back[i]}`);
      assert.ok(sameF32(e5[e5bits[i]!]!, e5back[i]!), `e5m2 code ${e5bits[i]}: ${e5[e5bits[i]!]} vs ${e5back[i]}`);
    }
    // bf16 / f16: the decoded code is the input rounded, so it lies within half a unit of the input.
    const bf = t.bf16_bits as Uint16Array,
      h = t.f16_bits as Uint16Array;
    for (let i = 0; i < input.length; i++) {
      const x = input[i]!;
      const b = bf16ToF32(bf[i]!),
        f = f16[h[i]!]!;
      if (Number.isNaN(x)) {
        assert.ok(Number.isNaN(b) && Number.isNaN(f), `NaN input ${i}`);
        continue;
      }
      assert.ok(Math.abs(b - x) <= Math.max(Math.abs(x) * 2 ** -8, 2 ** -134) || Object.is(b, x), `bf16 ${bf[i]} → ${b} for ${x}`);
      if (Math.abs(x) < 65520) assert.ok(Math.abs(f - x) <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25), `f16 ${h[i]} → ${f} for ${x}`);
      else assert.equal(f, x > 0 ? Infinity : -Infinity, `f16 overflow for ${x}`);
    }
  });
});
