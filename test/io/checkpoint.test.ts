// Checkpoints: single-file and sharded layouts behind one interface, transformers' shard naming,
// and the ways a sharded checkpoint can be broken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  openCheckpoint,
  openSafetensors,
  writeCheckpoint,
  writeSafetensors,
  INDEX_FILE,
  type StoredTensor,
} from '../../src/io/safetensors/index.ts';
import { FormatError, MissingFileError } from '../../src/io/errors.ts';
import { requireShared } from '../helpers/shared.ts';
import { tempDir } from './tmp.ts';

/** The llama fixture's tensors, to shard and reassemble. */
function fixtureTensors(): Map<string, StoredTensor> {
  const f = openSafetensors(requireShared('fixtures', 'models', 'llama_tiny', 'model.safetensors'));
  const m = new Map<string, StoredTensor>();
  for (const n of f.names()) m.set(n, f.read(n));
  f.close();
  return m;
}

const same = (a: StoredTensor, b: StoredTensor) =>
  a.dtype === b.dtype &&
  a.shape.join() === b.shape.join() &&
  Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));

test('a fixture model folder opens as a single-file checkpoint', () => {
  const ck = openCheckpoint(requireShared('fixtures', 'models', 'qwen2_tiny'));
  try {
    assert.equal(ck.layout, 'single');
    assert.deepEqual(ck.metadata, { format: 'pt' });
    assert.equal(ck.names().length, 27);
    assert.ok(ck.has('model.layers.1.self_attn.q_proj.bias'));
    assert.deepEqual(ck.info('lm_head.weight').shape, [512, 64]);
    assert.equal(ck.read('model.norm.weight').dtype, 'BF16');
    assert.ok(ck.fileOf('lm_head.weight').endsWith('model.safetensors'));
  } finally {
    ck.close();
  }
});

test('a sharded checkpoint written in a temp folder reads back tensor for tensor', (t) => {
  const dir = tempDir(t);
  const tensors = fixtureTensors();
  const files = writeCheckpoint(dir, tensors, { maxShardBytes: 50_000 });
  assert.ok(files.length > 3, `expected several shards, got ${files.length}`);
  const shards = readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors'))
    .sort();
  const n = shards.length;
  assert.deepEqual(
    shards,
    Array.from({ length: n }, (_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`),
  );

  const index = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8')) as {
    metadata: { total_size: number };
    weight_map: Record<string, string>;
  };
  const totalBytes = [...tensors.values()].reduce((s, x) => s + x.data.byteLength, 0);
  assert.equal(index.metadata.total_size, totalBytes);
  assert.deepEqual(Object.keys(index.weight_map).sort(), [...tensors.keys()].sort());

  for (const path of [dir, join(dir, INDEX_FILE)]) {
    const ck = openCheckpoint(path);
    try {
      assert.equal(ck.layout, 'sharded');
      assert.equal(ck.files.length, n);
      assert.deepEqual(ck.metadata, { total_size: totalBytes });
      assert.deepEqual(ck.names(), [...tensors.keys()].sort());
      for (const [name, want] of tensors) {
        assert.ok(same(ck.read(name), want), name);
        assert.equal(ck.fileOf(name), join(dir, index.weight_map[name]!));
        assert.equal(ck.info(name).dtype, want.dtype);
      }
      assert.throws(
        () => ck.read('nope'),
        (e: unknown) => e instanceof FormatError && e.key === 'nope',
      );
    } finally {
      ck.close();
    }
  }

  // Saving again small enough for one file replaces the shards and index with model.safetensors.
  writeCheckpoint(dir, tensors);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  const ck = openCheckpoint(dir);
  assert.equal(ck.layout, 'single');
  assert.ok(same(ck.read('model.embed_tokens.weight'), tensors.get('model.embed_tokens.weight')!));
  ck.close();
});

test('broken sharded checkpoints name the file and tensor at fault', (t) => {
  const dir = tempDir(t);
  const tensors = fixtureTensors();
  writeCheckpoint(dir, tensors, { maxShardBytes: 50_000 });
  const indexPath = join(dir, INDEX_FILE);
  const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map: Record<string, string> };

  // A shard the index names is gone.
  const victim = index.weight_map['model.norm.weight']!;
  const saved = readFileSync(join(dir, victim));
  rmSync(join(dir, victim));
  assert.throws(
    () => openCheckpoint(dir),
    (e: unknown) => e instanceof MissingFileError && e.file === join(dir, victim),
  );
  writeFileSync(join(dir, victim), saved);

  // The index claims a tensor its shard does not hold.
  const lying = { ...index, weight_map: { ...index.weight_map, 'model.extra.weight': victim } };
  writeFileSync(indexPath, JSON.stringify(lying));
  assert.throws(
    () => openCheckpoint(dir),
    (e: unknown) => e instanceof FormatError && e.key === 'model.extra.weight' && e.file === join(dir, victim),
  );

  // Paths outside the folder are refused.
  writeFileSync(indexPath, JSON.stringify({ weight_map: { w: '../elsewhere.safetensors' } }));
  assert.throws(
    () => openCheckpoint(dir),
    (e: unknown) => e instanceof FormatError && e.key === 'weight_map.w',
  );

  writeFileSync(indexPath, '{"weight_map": ');
  assert.throws(
    () => openCheckpoint(dir),
    (e: unknown) => e instanceof FormatError && e.file === indexPath && /not valid JSON/.test(e.message),
  );
  writeFileSync(indexPath, '{"metadata": {}}');
  assert.throws(
    () => openCheckpoint(dir),
    (e: unknown) => e instanceof FormatError && e.key === 'weight_map',
  );

  // A corrupt shard is reported as that shard.
  writeFileSync(indexPath, JSON.stringify(index));
  writeFileSync(join(dir, victim), saved.subarray(0, saved.length - 3));
  assert.throws(
    () => openCheckpoint(dir),
    (e: unknown) => e instanceof FormatError && e.file === join(dir, victim),
  );
});

test('a folder with neither layout, or a missing path, is a clear user error', (t) => {
  const dir = tempDir(t);
  assert.throws(
    () => openCheckpoint(dir),
    (e: unknown) => e instanceof MissingFileError && /no model\.safetensors\.index\.json or model\.safetensors/.test(e.message),
  );
  assert.throws(
    () => openCheckpoint(join(dir, 'nope')),
    (e: unknown) => e instanceof MissingFileError,
  );
  // A plain .safetensors path works too.
  const p = join(dir, 'x.safetensors');
  writeSafetensors(p, { a: { dtype: 'I8', shape: [2], data: new Int8Array([1, -1]) } });
  const ck = openCheckpoint(p);
  assert.deepEqual([...(ck.read('a').data as Int8Array)], [1, -1]);
  ck.close();
  assert.ok(existsSync(p));
});
