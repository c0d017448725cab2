// Memory per GPU and expert-parallel traffic: the parameters the stages hold add up to the model's,
// ZeRO stages, bf16 moments, FP8 and recomputation shrink what they should, and the all-to-all
// follows the routing (node-limited for DeepSeek-V3's 64-way EP, nothing over the network within a node).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/io/config.ts';
import { countParams } from '../../src/model/params.ts';
import { allToAll, builtinModel, GPUS, makePlan, memoryPlan, modelShape, type Layout } from '../../src/plan/index.ts';
import { fixtureModels, requireShared } from '../helpers/shared.ts';

const h800 = GPUS.find((g) => g.name === 'h800')!;
const base: Layout = {
  pp: 1,
  tp: 1,
  dp: 1,
  ep: 1,
  zero: 0,
  microBatch: 1,
  globalBatch: 8,
  seqLen: 64,
  schedule: '1f1b',
  recompute: 'none',
  compute: 'bf16',
  moments: 'f32',
};
const ones = (n: number) => new Array<number>(n).fill(1);

test('the parameters on the pipeline devices add up to every stored parameter (total, correction bias, MTP)', () => {
  for (const name of fixtureModels) {
    const c = loadConfig(requireShared('fixtures', 'models', name));
    const p = countParams(c);
    for (const pp of [1, 2]) {
      const m = memoryPlan(modelShape(c), { ...base, pp }, ones(pp));
      const sum = m.devices.reduce((a, d) => a + d.params, 0);
      assert.equal(sum, p.total + p.correctionBias + p.mtp, `${name} pp ${pp}`);
    }
  }
});

test('model states: 2 + 4 + 12 bytes a parameter, ZeRO-1/2/3 shard optimizer, gradients, weights; bf16 moments save 4 bytes', () => {
  const c = loadConfig(requireShared('fixtures', 'models', 'llama_tiny'));
  const s = modelShape(c);
  const z0 = memoryPlan(s, { ...base, dp: 4, globalBatch: 8 }, [1]).peak;
  assert.equal(z0.weights, 2 * z0.params);
  assert.equal(z0.grads, 4 * z0.params);
  assert.equal(z0.optimizer, 12 * z0.params);
  const z1 = memoryPlan(s, { ...base, dp: 4, zero: 1 }, [1]).peak;
  assert.equal(z1.optimizer, z0.optimizer / 4);
  assert.equal(z1.grads, z0.grads);
  const z2 = memoryPlan(s, { ...base, dp: 4, zero: 2 }, [1]).peak;
  assert.equal(z2.grads, z0.grads / 4);
  const z3 = memoryPlan(s, { ...base, dp: 4, zero: 3 }, [1]).peak;
  assert.equal(z3.weights, z0.weights / 4);
  const bf16 = memoryPlan(s, { ...base, moments: 'bf16' }, [1]).peak;
  assert.equal(bf16.optimizer, 8 * bf16.params);
});

test('activations: FP8 < bf16, selective < none, full < selective; live chunks multiply them; DualPipe holds two stages', () => {
  const c = builtinModel('deepseek-v3-671b')!;
  const s = modelShape(c);
  const l: Layout = { ...base, pp: 16, dp: 64, ep: 64, seqLen: 4096, globalBatch: 2048, zero: 1 };
  const act = (o: Partial<Layout>, chunks = ones(16)) => memoryPlan(s, { ...l, ...o }, chunks).devices[1]!.activations;
  assert.ok(act({ compute: 'fp8' }) < act({}));
  assert.ok(act({ recompute: 'selective' }) < act({}));
  assert.ok(act({ recompute: 'full' }) < act({ recompute: 'selective' }));
  assert.equal(
    act(
      {},
      ones(16).map(() => 3),
    ),
    3 * act({}),
  );
  const dual = memoryPlan(s, { ...l, schedule: 'dualpipe' }, ones(16));
  assert.deepEqual(dual.devices[0]!.stages, [0, 15]);
  const single = memoryPlan(s, l, ones(16));
  assert.equal(dual.devices[1]!.params, single.devices[1]!.params + single.devices[14]!.params);
  // Experts split over EP: 64-way EP puts 1/64 of a layer's experts on each GPU.
  const ep1 = memoryPlan(s, { ...l, ep: 1 }, ones(16)).devices[1]!.params;
  const experts = s.layers.filter((x) => x.index >= 4 && x.index < 8).reduce((a, x) => a + x.expertParams, 0); // stage 1: layers 4–7
  assert.equal(ep1 - single.devices[1]!.params, (experts * 63) / 64);
});

test("all-to-all: V3's 64-way EP reaches 4 nodes of 8 per token (3.5 remote), fp8 dispatch halves it; 8-way EP stays on NVLink", () => {
  const s = modelShape(builtinModel('deepseek-v3-671b')!);
  const l: Layout = { ...base, pp: 16, dp: 128, ep: 64, seqLen: 4096, globalBatch: 15360 };
  const fp8 = allToAll(s, l, h800, h800.fp8!, 0.4)!;
  const bf16 = allToAll(s, l, h800, h800.fp8!, 0.4, 'bf16')!;
  assert.equal(fp8.nodesPerToken, 4 * (7 / 8));
  assert.equal(fp8.networkForward, 4096 * 3.5 * 7168 * (1 + 4 / 128 + 2));
  assert.ok(bf16.networkForward > fp8.networkForward && bf16.networkForward === 4096 * 3.5 * 7168 * 4);
  assert.equal(fp8.networkBackward, 4096 * 3.5 * 7168 * 4);
  const inNode = allToAll(s, { ...l, ep: 8 }, h800, h800.fp8!, 0.4)!;
  assert.equal(inNode.networkForward, 0);
  assert.ok(inNode.nvlinkForward > 0);
  assert.equal(allToAll(modelShape(loadConfig(requireShared('fixtures', 'models', 'llama_tiny'))), base, h800, h800.bf16, 0.4), null);
});

test('a plan: GPU-hours follow FLOPs / (peak × MFU); the derived MFU falls with the pipeline bubble', () => {
  const c = builtinModel('deepseek-v3-671b')!;
  const layout: Layout = {
    ...base,
    pp: 16,
    dp: 128,
    ep: 64,
    seqLen: 4096,
    globalBatch: 15360,
    zero: 1,
    compute: 'fp8',
    moments: 'bf16',
    recompute: 'selective',
  };
  const given = makePlan({ config: c, layout, gpu: h800, tokens: 14.8e12, price: 2, mfu: 0.2 });
  assert.ok(Math.abs(given.gpuHours - given.trainingFlops / (h800.fp8! * 0.2) / 3600) < 1e-3);
  assert.equal(given.cost, given.gpuHours * 2);
  const dual = makePlan({ config: c, layout: { ...layout, schedule: 'dualpipe' }, gpu: h800, tokens: 14.8e12, price: 2 });
  const one = makePlan({ config: c, layout, gpu: h800, tokens: 14.8e12, price: 2 });
  assert.equal(dual.mfu.how, 'derived');
  const bf16 = makePlan({ config: c, layout: { ...layout, compute: 'bf16' }, gpu: h800, tokens: 1, price: 2 });
  assert.ok(one.memory.fp8Saving > 0);
  assert.equal(one.memory.fp8Saving, bf16.memory.fp8Saving);
  assert.equal(bf16.memory.peak.activations - one.memory.peak.activations, one.memory.fp8Saving);
  assert.ok(dual.mfu.value > one.mfu.value && dual.mfu.value <= 0.5);
  assert.throws(() => makePlan({ config: c, layout: { ...layout, ep: 48 }, gpu: h800, tokens: 1, price: 2 }), /ep \(48\) must divide/);
});
