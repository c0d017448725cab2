// The MTP catch-up runs every sequence's pending positions in one step, padding rows that have fewer
// at the end. A wrong padding cannot change the output (verification decides), only the drafts and
// so the acceptance: this checks the drafts directly, against each sequence caught up alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../../../src/model/load.ts';
import { Tensor, floatData, noGrad } from '../../../src/tensor/index.ts';
import { Sequence } from '../../../src/generate/sequence.ts';
import { MtpDrafter } from '../../../src/generate/speculative/mtp-drafter.ts';
import { mtpModelFor } from '../../../src/generate/speculative/mtp-model.ts';
import { maxAbsDiff } from '../../helpers/fixtures.ts';

const NANO = join(import.meta.dirname, '../../../models/deepseek-ts-nano');

test('deepseek-ts-nano: one padded catch-up over 1, 2 and 3 pending positions gives what each sequence alone gets', () => {
  const model = mtpModelFor(loadModel(NANO).model, { method: 'mtp' }).model;
  const cases = [
    { prompt: [5, 17, 300, 42], generated: [99] },
    { prompt: [8, 9, 1000, 77, 12, 3], generated: [401, 402] },
    { prompt: [60, 61], generated: [7, 8, 9] },
  ];
  // A prefilled sequence whose main cache then took all its generated tokens but the last: its
  // MTP cache lags by generated.length positions (the pending ones).
  const prepare = (drafter: MtpDrafter, c: (typeof cases)[number]): Sequence => {
    const s = new Sequence({ prompt: c.prompt, maxTokens: 10 });
    s.cache = [...model.newCache(4), ...model.newMtpCache(4)]; // small: they must grow
    const L = c.prompt.length;
    const { final } = model.forward(Tensor.from(c.prompt, [1, L], 'i32'), { caches: [s.cache], logits: 'none' });
    drafter.absorb(s, floatData(final) as Float32Array, L);
    drafter.catchUp([s], false);
    for (const g of c.generated) s.accept(g);
    const fed = c.generated.slice(0, -1);
    if (fed.length > 0) {
      const r = model.forward(Tensor.from(fed, [1, fed.length], 'i32'), { caches: [s.cache], logits: 'none' });
      drafter.absorb(s, floatData(r.final) as Float32Array, fed.length);
    }
    return s;
  };
  noGrad(() => {
    const together = new MtpDrafter(model);
    const seqs = cases.map((c) => prepare(together, c));
    const heads = together.catchUp(seqs, true);
    cases.forEach((c, i) => {
      const alone = new MtpDrafter(model);
      const s = prepare(alone, c);
      const head = alone.catchUp([s], true).get(s)!;
      const got = heads.get(seqs[i]!)!;
      assert.ok(maxAbsDiff(got.logits, head.logits) < 1e-4, `sequence ${i}: logits differ by ${maxAbsDiff(got.logits, head.logits)}`);
      assert.ok(maxAbsDiff(got.normed, head.normed) < 1e-4, `sequence ${i}: states differ`);
      // The MTP cache holds every position but the last token's, padding dropped.
      const mtpCache = together.caches(seqs[i]!)[0]!;
      assert.equal(mtpCache.length, c.prompt.length + c.generated.length - 1, `sequence ${i}: MTP cache length`);
      assert.equal(mtpCache.length, alone.caches(s)[0]!.length);
    });
  });
});
