// Aux-loss-free balancing: the LoadTracker's bookkeeping, and on a router with a strong built-in
// skew (every token prefers experts 0 and 1), bias updates from the recorded loads drive max/mean load down where the same run without
// updates stays as skewed as it started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, type ModelConfig } from '../../src/io/config.ts';
import { initWeights } from '../../src/model/init.ts';
import { buildModel } from '../../src/model/registry.ts';
import type { CausalLM } from '../../src/model/causal-lm.ts';
import * as T from '../../src/tensor/index.ts';
import { LoadTracker } from '../../src/train/balance.ts';

const HIDDEN = 32;
const E = 8;
const K = 2;

/** One MoE layer (8 experts, top-2, no groups) and one MTP module, small enough to run 80 steps. */
function config(): ModelConfig {
  return parseConfig(
    {
      model_type: 'deepseek_v3',
      vocab_size: 64,
      hidden_size: HIDDEN,
      intermediate_size: 64,
      moe_intermediate_size: 16,
      num_hidden_layers: 1,
      first_k_dense_replace: 0,
      num_attention_heads: 2,
      q_lora_rank: 16,
      kv_lora_rank: 16,
      qk_nope_head_dim: 8,
      qk_rope_head_dim: 4,
      v_head_dim: 8,
      n_routed_experts: E,
      num_experts_per_tok: K,
      n_group: 1,
      topk_group: 1,
      n_shared_experts: 1,
      num_nextn_predict_layers: 1,
      max_position_embeddings: 64,
    },
    'balance-test',
  );
}

/**
 * A model whose router prefers experts 0 and 1 for every token: their gate rows get a large
 * component along u, and the tokens fed to the MoE are u plus noise.
 */
function skewed(seed: number): { model: CausalLM; tokens: () => T.Tensor } {
  const c = config();
  const w = initWeights(c, seed);
  const rng = new T.Rng(seed + 100);
  const u = Float32Array.from({ length: HIDDEN }, () => rng.normal());
  const norm = Math.hypot(...u);
  const gate = w.get('model.layers.0.mlp.gate.weight').data as Float32Array;
  // Spread the other experts' scores (std 0.1 rather than 0.02) so the bias can separate tokens.
  for (let i = 0; i < gate.length; i++) gate[i] *= 5;
  for (let e = 0; e < 2; e++) for (let j = 0; j < HIDDEN; j++) gate[e * HIDDEN + j] += (0.4 * u[j]!) / norm;
  const model = buildModel(c, w);
  const tokens = () => {
    const x = new Float32Array(512 * HIDDEN);
    for (let t = 0; t < 512; t++) for (let j = 0; j < HIDDEN; j++) x[t * HIDDEN + j] = u[j]! + 0.8 * rng.normal();
    return new T.Tensor(x, [512, HIDDEN], 'f32');
  };
  return { model, tokens };
}

/** Runs `steps` micro-batches through the MoE, recording loads; updates the bias after each when γ > 0. */
function run(gamma: number, steps: number): number[] {
  const { model, tokens } = skewed(1);
  const moe = model.moeLayers()[0]!;
  const tracker = new LoadTracker(model);
  const history: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { routing } = T.noGrad(() => moe.forward(tokens()));
    tracker.record([{ layer: 0, routing }]);
    const st = tracker.stats();
    assert.equal(st.length, 1, 'only the layer that routed is reported');
    history.push(st[0]!.maxOverMean);
    if (gamma > 0) tracker.updateBiases(gamma);
    else tracker.reset();
  }
  return history;
}

test('bias updates reduce max/mean expert load on a skewed router; without them it stays skewed', () => {
  const steps = 80;
  const withUpdate = run(0.01, steps);
  const without = run(0, steps);
  const tail = (h: number[]) => h.slice(-10).reduce((a, b) => a + b) / 10;
  // Skewed start: experts 0 and 1 take nearly every token, max/mean close to N_r/K_r = 4.
  assert.ok(withUpdate[0]! > 3, `initial max/mean ${withUpdate[0]}`);
  assert.ok(tail(without) > 3, `without updates: ${tail(without)}`);
  assert.ok(tail(withUpdate) < 1.5, `with updates: ${tail(withUpdate)}`);
  console.log(
    `max/mean load over the last 10 of ${steps} steps: ${tail(without).toFixed(2)} without bias updates, ${tail(withUpdate).toFixed(2)} with γ = 0.01`,
  );
});

test('LoadTracker: accumulates micro-batches, records the routings a forward returned, updates by γ·sign(mean − load), resets', () => {
  const { model, tokens } = skewed(2);
  const moe = model.moeLayers()[0]!;
  const mtpMoe = model.mtp[0]!.block.ffn;
  const tracker = new LoadTracker(model);
  assert.deepEqual(tracker.stats(), [], 'nothing recorded yet');
  const loads: Int32Array[] = [];
  for (let i = 0; i < 2; i++) {
    const { routing } = T.noGrad(() => moe.forward(tokens()));
    loads.push(routing.load.slice());
    tracker.record([{ layer: 0, routing }]);
  }
  const total = loads[0]!.map((v, e) => v + loads[1]![e]!);
  const st = tracker.stats();
  assert.equal(st.length, 1);
  assert.equal(st[0]!.layer, 0);
  assert.equal(st[0]!.max, Math.max(...total));
  assert.equal(st[0]!.mean, (2 * 512 * K) / E);
  assert.equal(st[0]!.maxOverMean, Math.max(...total) / st[0]!.mean);

  // The MTP block's router is tracked too, as layer num_hidden_layers + 0.
  const mtpRouting = T.noGrad(() => (mtpMoe as typeof moe).forward(tokens())).routing;
  tracker.record([{ layer: 1, routing: mtpRouting }]);
  assert.deepEqual(
    tracker.stats().map((s) => s.layer),
    [0, 1],
  );

  const bias = moe.router.bias!.data as Float32Array;
  const before = bias.slice();
  tracker.updateBiases(0.125);
  const mean = (2 * 512 * K) / E;
  for (let e = 0; e < E; e++) assert.equal(bias[e]! - before[e]!, 0.125 * Math.sign(mean - total[e]!), `expert ${e}`);
  assert.deepEqual(tracker.stats(), [], 'reset after the update');
});
