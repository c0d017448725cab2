// rope_interleave (DeepSeek-V3 config): true rotates q_pe / k_pe channels in adjacent pairs (the
// released weights), false as two halves. A checkpoint whose rope rows are permuted from the pair
// layout to the half layout, with rope_interleave: false, must compute exactly what the original does
// (issue 9 item 10: the flag used to be ignored, so such a checkpoint computed wrong logits silently).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors, type StoredTensor } from '../../src/io/safetensors/index.ts';
import { loadModel } from '../../src/model/load.ts';
import { Tensor, floatData, noGrad } from '../../src/tensor/index.ts';
import { fixture, maxAbsDiff } from '../helpers/fixtures.ts';

/** Rows [at, at + rope) reordered from pairs (0 1)(2 3)… to halves: evens first, then odds. */
function permuteRows(t: StoredTensor, at: number, rope: number): void {
  const cols = t.shape[1]!;
  const rows = Array.from({ length: rope }, (_, i) => t.data.slice((at + i) * cols, (at + i + 1) * cols));
  const order = [...Array.from({ length: rope / 2 }, (_, i) => 2 * i), ...Array.from({ length: rope / 2 }, (_, i) => 2 * i + 1)];
  order.forEach((src, dst) => (t.data as Uint16Array).set(rows[src] as Uint16Array, (at + dst) * cols));
}

test('rope_interleave: false with rope rows permuted to the half layout gives the interleaved logits', (t) => {
  const src = fixture('models', 'deepseek_v3_tiny');
  const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')) as Record<string, number | boolean>;
  const dir = mkdtempSync(join(tmpdir(), 'dsts-rope-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const H = config.num_attention_heads as number;
  const nope = config.qk_nope_head_dim as number;
  const rope = config.qk_rope_head_dim as number;
  const r = config.kv_lora_rank as number;

  const file = openSafetensors(join(src, 'model.safetensors'));
  const tensors = new Map<string, StoredTensor>();
  for (const name of file.names()) {
    const s = file.read(name);
    const t2: StoredTensor = { dtype: s.dtype, shape: [...s.shape], data: s.data.slice() } as StoredTensor;
    assert.ok(!name.endsWith('.q_proj.weight') && !name.endsWith('_proj.bias'), 'fixture has q_lora and no biases');
    if (name.endsWith('.q_b_proj.weight')) for (let h = 0; h < H; h++) permuteRows(t2, h * (nope + rope) + nope, rope);
    if (name.endsWith('.kv_a_proj_with_mqa.weight')) permuteRows(t2, r, rope);
    tensors.set(name, t2);
  }
  file.close();
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  const logits = (cfg: Record<string, unknown>) => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
    const { model } = loadModel(dir);
    const ids = Tensor.from([3, 17, 42, 99, 7, 250, 11, 5], [1, 8], 'i32');
    return floatData(noGrad(() => model.forward(ids).logits!));
  };
  const want = floatData(noGrad(() => loadModel(src).model.forward(Tensor.from([3, 17, 42, 99, 7, 250, 11, 5], [1, 8], 'i32')).logits!));
  const halves = logits({ ...config, rope_interleave: false });
  assert.ok(maxAbsDiff(halves, want) < 1e-5, `max |diff| ${maxAbsDiff(halves, want)}`);
  // The permuted weights read as interleaved compute something else: the flag is what makes them agree.
  const misread = logits({ ...config, rope_interleave: true });
  assert.ok(maxAbsDiff(misread, want) > 1e-3, `max |diff| ${maxAbsDiff(misread, want)}`);
});
