// Reading: every fixture file, lazily, and writing it back byte for byte as the reference
// implementation (Python/Rust safetensors, which made these files) did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors, dtypeSize, numel, type StoredTensor } from '../../src/io/safetensors/index.ts';
import { fixtureModels, requireShared } from '../helpers/shared.ts';
import { tempDir } from './tmp.ts';

const fixtureFiles = [
  'codecs.safetensors',
  ...fixtureModels.flatMap((m) => [`models/${m}/model.safetensors`, `models/${m}/golden.safetensors`]),
];

test('every fixture file opens, and every tensor reads with the right typed array and length', () => {
  for (const rel of fixtureFiles) {
    const f = openSafetensors(requireShared('fixtures', ...rel.split('/')));
    try {
      assert.ok(f.names().length > 0, rel);
      for (const name of f.names()) {
        const info = f.info(name);
        const t = f.read(name);
        assert.equal(t.dtype, info.dtype);
        assert.deepEqual(t.shape, info.shape);
        assert.equal(t.data.length, numel(info.shape), `${rel} ${name}`);
        assert.equal(t.data.byteLength, info.byteLength);
        assert.equal(t.data.byteOffset % dtypeSize(t.dtype), 0);
      }
    } finally {
      f.close();
    }
  }
});

test('fixture tensors have the dtypes and shapes the checkpoints declare', () => {
  const f = openSafetensors(requireShared('fixtures', 'models', 'deepseek_v3_tiny_fp8', 'model.safetensors'));
  try {
    assert.deepEqual(f.metadata, { format: 'pt' });
    const w = f.read('model.layers.0.self_attn.kv_b_proj.weight');
    assert.equal(w.dtype, 'F8_E4M3');
    assert.ok(w.data instanceof Uint8Array);
    assert.deepEqual(w.shape, [112, 32]);
    const s = f.read('model.layers.0.self_attn.kv_b_proj.weight_scale_inv');
    assert.equal(s.dtype, 'F32');
    assert.deepEqual(s.shape, [4, 1]); // ceil(112/32) × ceil(32/32): partial edge block
    assert.ok(s.data instanceof Float32Array && s.data.every((x) => x > 0 && Number.isFinite(x)));
    assert.equal(f.info('model.embed_tokens.weight').dtype, 'BF16');
    assert.ok(f.read('model.embed_tokens.weight').data instanceof Uint16Array);
  } finally {
    f.close();
  }
  const g = openSafetensors(requireShared('fixtures', 'models', 'llama_tiny', 'golden.safetensors'));
  try {
    const ids = g.read('input_ids');
    assert.equal(ids.dtype, 'I32');
    assert.ok(ids.data instanceof Int32Array);
    assert.deepEqual(ids.shape, [2, 24]);
    assert.ok(ids.data.every((x) => x >= 0 && x < 512));
    const loss = g.read('loss');
    assert.ok(loss.data instanceof Float32Array && loss.data[0]! > 0 && Number.isFinite(loss.data[0]!));
    assert.equal(g.has('lm_head.weight'), false);
    assert.throws(
      () => g.read('lm_head.weight'),
      (e: Error) => e.name === 'FormatError' && /lm_head\.weight/.test(e.message) && /golden\.safetensors/.test(e.message),
    );
  } finally {
    g.close();
  }
});

test('rewriting each fixture gives the identical bytes the reference implementation wrote', (t) => {
  const dir = tempDir(t);
  for (const rel of fixtureFiles) {
    const src = requireShared('fixtures', ...rel.split('/'));
    const f = openSafetensors(src);
    const tensors = new Map<string, StoredTensor>();
    for (const name of f.names()) tensors.set(name, f.read(name));
    const meta = Object.keys(f.metadata).length > 0 ? f.metadata : undefined;
    f.close();
    const out = join(dir, 'copy.safetensors');
    writeSafetensors(out, tensors, meta);
    assert.ok(readFileSync(out).equals(readFileSync(src)), `${rel}: bytes differ from the reference writer's`);
  }
});

test('open reads only the header: a 3 GiB sparse file opens instantly and a tensor past 2^31 reads', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'sparse.safetensors');
  const big = 3 * 2 ** 30;
  const header = Buffer.from(
    JSON.stringify({
      big: { dtype: 'U8', shape: [big], data_offsets: [0, big] },
      tail: { dtype: 'F32', shape: [2], data_offsets: [big, big + 8] },
    }),
  );
  const padded = Buffer.alloc(Math.ceil(header.length / 8) * 8, 0x20);
  header.copy(padded);
  const fd = openSync(path, 'w');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(padded.length));
  writeSync(fd, prefix);
  writeSync(fd, padded);
  ftruncateSync(fd, 8 + padded.length + big + 8); // sparse: no data blocks on disk
  writeSync(fd, new Uint8Array(new Float32Array([1.5, -2]).buffer), 0, 8, 8 + padded.length + big);
  closeSync(fd);

  const before = process.memoryUsage().rss;
  const f = openSafetensors(path);
  try {
    assert.equal(f.info('big').byteLength, big);
    assert.deepEqual([...(f.read('tail').data as Float32Array)], [1.5, -2]);
    // Had open or read touched the 3 GiB tensor, RSS would have grown by gigabytes.
    assert.ok(process.memoryUsage().rss - before < 256 * 2 ** 20, 'memory grew as if the big tensor was read');
  } finally {
    f.close();
  }
  assert.throws(() => f.read('tail'), /after close/);
});
