// SFT data: which tokens are trained (assistant replies and their end of turn only, under an
// incremental template and under R1's, which drops earlier reasoning), and packing that keeps
// examples apart: a packed example's logits equal its logits alone (MLA and GQA models).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../src/tensor/index.ts';
import { loadTokenizer } from '../../src/tokenizer/index.ts';
import { loadModel } from '../../src/model/load.ts';
import { renderSft } from '../../src/posttrain/sft/render.ts';
import { SftStream, IGNORE } from '../../src/posttrain/sft/pack.ts';
import type { Example } from '../../src/posttrain/data/jsonl.ts';
import { tinyModel } from './helpers.ts';

const ex = (data: Record<string, unknown>): Example => ({ data, file: 'test.jsonl', line: 0 });
const EOS = '<｜end▁of▁sentence｜>';

function trainedText(tok: ReturnType<typeof loadTokenizer>, s: { ids: Int32Array; trained: Uint8Array }): string[] {
  const spans: string[] = [];
  let cur: number[] = [];
  s.ids.forEach((id, i) => {
    if (s.trained[i]) cur.push(id);
    else if (cur.length) (spans.push(tok.decode(cur)), (cur = []));
  });
  if (cur.length) spans.push(tok.decode(cur));
  return spans;
}

test('SFT trains the assistant replies only (V3 template: one sequence, every reply)', (t) => {
  const tok = loadTokenizer(tinyModel(t, 'deepseek_v3_tiny', 'v3'));
  const msgs = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello.' },
    { role: 'assistant', content: 'Hello!' },
    { role: 'user', content: 'What is the capital of France?' },
    { role: 'assistant', content: 'Paris.' },
  ];
  const seqs = renderSft(ex({ messages: msgs }), tok, 'chat');
  assert.equal(seqs.length, 1);
  assert.deepEqual(trainedText(tok, seqs[0]!), [`Hello!${EOS}`, `Paris.${EOS}`]);
  // The whole sequence is the template's rendering of the conversation.
  assert.equal(tok.decode(seqs[0]!.ids), tok.applyChatTemplate(msgs));
  // prompt/completion is the same as a user turn and a reply.
  const pc = renderSft(ex({ prompt: 'Say hello.', completion: 'Hello!' }), tok, 'chat');
  assert.deepEqual(trainedText(tok, pc[0]!), [`Hello!${EOS}`]);
});

test("SFT with R1's template: the reasoning is trained after the prompt's <think>, one sequence per reply", (t) => {
  const tok = loadTokenizer(tinyModel(t, 'deepseek_v3_tiny', 'r1'));
  const msgs = [
    { role: 'user', content: 'Add 1 and 2.' },
    { role: 'assistant', content: '<think>\n1 + 2 = 3\n</think>\n\nThe sum is 3.' },
    { role: 'user', content: 'And 2 and 2?' },
    { role: 'assistant', content: '<think>\n2 + 2 = 4\n</think>\n\n4.' },
  ];
  const seqs = renderSft(ex({ messages: msgs }), tok, 'chat');
  assert.equal(seqs.length, 2);
  assert.deepEqual(trainedText(tok, seqs[0]!), [`1 + 2 = 3\n</think>\n\nThe sum is 3.${EOS}`]);
  assert.deepEqual(trainedText(tok, seqs[1]!), [`2 + 2 = 4\n</think>\n\n4.${EOS}`]);
  // The second reply's prompt is what chat would send: the first answer without its reasoning.
  const prompt = tok.decode(seqs[1]!.ids.filter((_, i) => !seqs[1]!.trained[i]));
  assert.equal(prompt, tok.applyChatTemplate(msgs.slice(0, 3), { addGenerationPrompt: true }));
  assert.ok(!prompt.includes('1 + 2 = 3'));
});

for (const family of ['deepseek_v3_tiny', 'qwen2_tiny'] as const) {
  test(`${family}: packed examples never attend to each other`, (t) => {
    const dir = tinyModel(t, family, 'v3');
    const tok = loadTokenizer(dir);
    const { model } = loadModel(dir, { dtype: 'f32' });
    const seqs = ['Say hello.', 'What is the capital of France?', 'Add 1 and 2.'].map(
      (q) => renderSft(ex({ prompt: q, completion: 'Paris is nice.' }), tok, 'chat')[0]!,
    );
    const total = seqs.reduce((a, s) => a + s.ids.length, 0);
    const stream = new SftStream(seqs, { seqLen: total + 3, packing: true, seed: 1, padId: 1 });
    const b = stream.next(1);
    assert.equal(b.layout.rows[0]!.length, 4, 'three examples and the padding in one row');
    const packed = T.noGrad(() => T.withAttentionLayout(b.layout, () => model.forward(b.ids).logits!));
    const ids = T.rowMajor(b.ids) as Int32Array;
    const targets = T.rowMajor(b.targets) as Int32Array;
    for (const blk of b.layout.rows[0]!.slice(0, 3)) {
      const alone = T.noGrad(() => model.forward(new T.Tensor(ids.slice(blk.qStart, blk.qEnd), [1, blk.qEnd - blk.qStart], 'i32')).logits!);
      const V = alone.shape[2]!;
      const got = T.floatData(packed).subarray(blk.qStart * V, blk.qEnd * V);
      let d = 0;
      T.floatData(alone).forEach((v, i) => (d = Math.max(d, Math.abs(v - got[i]!))));
      assert.ok(d < 1e-4, `example at ${blk.qStart}: max |Δ logits| ${d}`);
      assert.equal(targets[blk.qEnd - 1], IGNORE, 'the last token of an example predicts nothing');
    }
    // Without the layout the later examples would see the earlier ones: the test can tell.
    const leaky = T.noGrad(() => model.forward(b.ids).logits!);
    const V = leaky.shape[2]!;
    const s = b.layout.rows[0]![1]!.qStart;
    assert.ok(Math.abs(T.floatData(leaky)[s * V]! - T.floatData(packed)[s * V]!) > 1e-6);
  });
}
