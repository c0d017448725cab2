// Codecs against PyTorch's own conversions (shared/fixtures/codecs.safetensors), bit for bit, plus
// exhaustive round trips over every narrow code and the edge cases the rules hinge on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from '../../src/tensor/codecs.ts';
import { openSafetensors } from '../../src/io/safetensors/index.ts';
import { requireShared } from '../helpers/shared.ts';

function fixture() {
  const f = openSafetensors(requireShared('fixtures', 'codecs.safetensors'));
  try {
    const get = (name: string) => {
      const t = f.read(name);
      return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    };
    const input = new Float32Array(get('input_f32').slice().buffer);
    return {
      input,
      bf16: new Uint16Array(get('bf16_bits').slice().buffer), // stored as I16: same bits
      f16: new Uint16Array(get('f16_bits').slice().buffer),
      e4m3: get('e4m3fn_bits').slice(),
      e5m2: get('e5m2_bits').slice(),
      e4m3Back: new Uint32Array(get('e4m3fn_back_f32').slice().buffer),
      e5m2Back: new Uint32Array(get('e5m2_back_f32').slice().buffer),
    };
  } finally {
    f.close();
  }
}

const fx = fixture();
const inputBits = new Uint32Array(fx.input.buffer);
const hex = (n: number) => `0x${n.toString(16)}`;

/** Reports the first few differing elements with their inputs, so a failure says what rule broke. */
function assertSameBits(what: string, got: ArrayLike<number>, want: ArrayLike<number>, input?: Uint32Array): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i] && bad.length < 5) {
      bad.push(`[${i}]${input ? ` input ${hex(input[i]!)}` : ''}: got ${hex(got[i]!)}, want ${hex(want[i]!)}`);
    }
  }
  assert.deepEqual(bad, [], `${what} mismatches:\n${bad.join('\n')}`);
}

test('fixture covers the edge cases it is meant to (sanity of the reference data)', () => {
  assert.equal(fx.input.length, 16410);
  assert.ok(fx.input.some(Number.isNaN), 'a NaN input');
  assert.ok(fx.input.includes(Infinity) && fx.input.includes(-Infinity), 'both infinities');
  assert.ok(
    fx.input.some((x) => x !== 0 && Math.abs(x) < 1.1754943508222875e-38),
    'an f32 subnormal',
  );
});

test('encodeBf16 matches torch bit for bit (NaN → 0xFFFF)', () => {
  assertSameBits('bf16', c.encodeBf16(fx.input), fx.bf16, inputBits);
  for (let i = 0; i < fx.input.length; i += 7) assert.equal(c.bf16FromF32(fx.input[i]!), fx.bf16[i], `scalar [${i}]`);
});

test('encodeF16 matches torch bit for bit', () => {
  assertSameBits('f16', c.encodeF16(fx.input), fx.f16, inputBits);
  for (let i = 0; i < fx.input.length; i += 7) assert.equal(c.f16FromF32(fx.input[i]!), fx.f16[i], `scalar [${i}]`);
});

test('encodeE4m3 matches torch float8_e4m3fn bit for bit', () => {
  assertSameBits('e4m3fn', c.encodeE4m3(fx.input), fx.e4m3, inputBits);
  for (let i = 0; i < fx.input.length; i += 7) assert.equal(c.e4m3FromF32(fx.input[i]!), fx.e4m3[i], `scalar [${i}]`);
});

test('encodeE5m2 matches torch float8_e5m2 bit for bit', () => {
  assertSameBits('e5m2', c.encodeE5m2(fx.input), fx.e5m2, inputBits);
  for (let i = 0; i < fx.input.length; i += 7) assert.equal(c.e5m2FromF32(fx.input[i]!), fx.e5m2[i], `scalar [${i}]`);
});

test('decodeE4m3 / decodeE5m2 match torch bit for bit, NaN payloads included', () => {
  assertSameBits('e4m3fn → f32', new Uint32Array(c.decodeE4m3(fx.e4m3).buffer), fx.e4m3Back);
  assertSameBits('e5m2 → f32', new Uint32Array(c.decodeE5m2(fx.e5m2).buffer), fx.e5m2Back);
  // Scalar decoders agree in value (NaN compares as NaN: a JS number need not keep the payload).
  for (let i = 0; i < fx.e4m3.length; i += 5) {
    assert.ok(Object.is(c.f32FromE4m3(fx.e4m3[i]!), c.decodeE4m3(fx.e4m3.subarray(i, i + 1))[0]), `e4m3 scalar [${i}]`);
    assert.ok(Object.is(c.f32FromE5m2(fx.e5m2[i]!), c.decodeE5m2(fx.e5m2.subarray(i, i + 1))[0]), `e5m2 scalar [${i}]`);
  }
});

test('decodeBf16 / decodeF16 invert the fixture encodings', () => {
  const bf = new Uint32Array(c.decodeBf16(fx.bf16).buffer);
  for (let i = 0; i < bf.length; i++) assert.equal(bf[i], (fx.bf16[i]! << 16) >>> 0, `bf16 [${i}]`);
  const back = c.encodeF16(c.decodeF16(fx.f16));
  assertSameBits('f16 → f32 → f16', back, fx.f16);
});

/** f16 value by the textbook formula, independent of the codec's bit tricks. */
function f16Reference(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 31) return m ? NaN : s * Infinity;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

test('every f16 code decodes to its textbook value and re-encodes to itself', () => {
  const codes = new Uint16Array(65536).map((_, i) => i);
  const values = c.decodeF16(codes);
  const bits = new Uint32Array(values.buffer);
  const again = c.encodeF16(values);
  for (let h = 0; h < 65536; h++) {
    const ref = f16Reference(h);
    if (Number.isNaN(ref)) {
      assert.ok(Number.isNaN(values[h]!), `NaN code ${hex(h)}`);
      assert.equal(bits[h], (((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0, `NaN payload of ${hex(h)} widened`);
      assert.equal(again[h], h | 0x200, `NaN ${hex(h)} re-encodes quieted`);
    } else {
      assert.ok(Object.is(values[h], ref), `code ${hex(h)}: got ${values[h]}, want ${ref}`);
      assert.equal(again[h], h, `code ${hex(h)} round trip`);
    }
  }
});

test('every bf16, e4m3fn and e5m2 code round-trips through f32 (NaN codes aside)', () => {
  const all16 = new Uint16Array(65536).map((_, i) => i);
  const bfBack = c.encodeBf16(c.decodeBf16(all16));
  for (let h = 0; h < 65536; h++) {
    const isNaN = (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;
    assert.equal(bfBack[h], isNaN ? 0xffff : h, `bf16 ${hex(h)}`);
  }
  const all8 = new Uint8Array(256).map((_, i) => i);
  const e4Back = c.encodeE4m3(c.decodeE4m3(all8));
  const e5Back = c.encodeE5m2(c.decodeE5m2(all8));
  for (let b = 0; b < 256; b++) {
    assert.equal(e4Back[b], b, `e4m3 ${hex(b)}`); // e4m3fn's only NaN codes are 0x7f/0xff, which NaN encodes to
    const e5NaN = (b & 0x7c) === 0x7c && (b & 3) !== 0;
    assert.equal(e5Back[b], e5NaN ? (b & 0x80) | 0x7f : b, `e5m2 ${hex(b)}`);
  }
});

test('rounding, saturation and overflow rules at the edges', () => {
  // e4m3fn: 448 is the largest finite; halfway to the next step (464) ties to even (448); above → NaN.
  assert.equal(c.e4m3FromF32(448), 0x7e);
  assert.equal(c.e4m3FromF32(464), 0x7e);
  assert.equal(c.e4m3FromF32(464.0001), 0x7f);
  assert.equal(c.e4m3FromF32(-1e6), 0xff);
  assert.equal(c.e4m3FromF32(Infinity), 0x7f);
  assert.equal(c.e4m3FromF32(NaN), 0x7f);
  assert.equal(c.e4m3FromF32(-0), 0x80);
  // e4m3fn subnormals are multiples of 2^-9: ties go to the even multiple.
  assert.equal(c.e4m3FromF32(2 ** -10), 0x00);
  assert.equal(c.e4m3FromF32(3 * 2 ** -10), 0x02);
  assert.equal(c.f32FromE4m3(0x01), 2 ** -9);
  assert.equal(c.f32FromE4m3(0x7e), 448);
  // e5m2: IEEE-like, overflows to inf.
  assert.equal(c.e5m2FromF32(57344), 0x7b);
  assert.equal(c.e5m2FromF32(61440), 0x7c);
  assert.equal(c.e5m2FromF32(-Infinity), 0xfc);
  assert.equal(c.f32FromE5m2(0x7c), Infinity);
  // f16 / bf16.
  assert.equal(c.f16FromF32(65504), 0x7bff);
  assert.equal(c.f16FromF32(65519.99), 0x7bff);
  assert.equal(c.f16FromF32(65520), 0x7c00);
  assert.equal(c.f16FromF32(2 ** -24), 0x0001);
  assert.equal(c.f16FromF32(2 ** -25), 0x0000);
  assert.equal(c.f32FromF16(0x3c00), 1);
  assert.equal(c.bf16FromF32(1 + 2 ** -8), 0x3f80); // tie → even
  assert.equal(c.bf16FromF32(1 + 3 * 2 ** -8), 0x3f82);
  assert.equal(c.bf16FromF32(-NaN), 0xffff);
  assert.equal(c.bf16FromF32(3.4e38), 0x7f80); // rounds past bf16's max to inf
  assert.equal(c.f32FromBf16(0x3f80), 1);
});

test('array codecs fill a given destination and reject a mismatched one', () => {
  const src = new Float32Array([1, -2, 0.5]);
  const dst = new Uint16Array(3);
  assert.equal(c.encodeBf16(src, dst), dst);
  assert.deepEqual([...dst], [0x3f80, 0xc000, 0x3f00]);
  const back = new Float32Array(3);
  assert.equal(c.decodeBf16(dst, back), back);
  assert.deepEqual([...back], [1, -2, 0.5]);
  assert.throws(() => c.encodeF16(src, new Uint16Array(2)), RangeError);
  assert.throws(() => c.decodeE4m3(new Uint8Array(4), new Float32Array(3)), RangeError);
  // Works on views that do not start at offset 0 of their buffer.
  const big = new Float32Array([9, 1, 2, 9]);
  assert.deepEqual([...c.encodeE4m3(big.subarray(1, 3))], [0x38, 0x40]);
});
