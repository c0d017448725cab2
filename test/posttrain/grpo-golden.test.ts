// GRPO against TRL's GRPOTrainer (../shared/fixtures/grpo, float64): per-token log-probs at the
// sampling temperature, advantages for each scale_rewards, the k3 KL, the four loss aggregations and
// d loss / d weight for every weight, on both fixture models — computed here in f32. Tolerances are
// the fixtures' own: values 1e-3 absolute, losses 1e-4 absolute, gradients 1e-3 relative per tensor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSafetensors } from '../../src/io/safetensors/index.ts';
import { loadModel, tensorFromStored } from '../../src/model/load.ts';
import * as T from '../../src/tensor/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { completionLogps, type CompletionBatch } from '../../src/posttrain/completion-logps.ts';
import { groupAdvantages, grpoLoss, k3Kl, LOSS_TYPES, SCALE_REWARDS, type LossType } from '../../src/posttrain/grpo/objective.ts';
import { fixture, maxAbsDiff } from '../helpers/fixtures.ts';

function readFixture(model: string): { t: Map<string, Tensor>; meta: Record<string, string> } {
  const path = fixture('grpo', `${model}.safetensors`);
  const f = openSafetensors(path);
  try {
    return { t: new Map(f.names().map((n) => [n, tensorFromStored(f.read(n), n, path)])), meta: { ...f.metadata } };
  } finally {
    f.close();
  }
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

function rows(t: Tensor): number[][] {
  const [B, C] = t.shape as [number, number];
  const d = Array.from(T.rowMajor(t) as ArrayLike<number>);
  return Array.from({ length: B }, (_, b) => d.slice(b * C, (b + 1) * C));
}

/**
 * Our gradient for a reference parameter name. transformers 5 holds a MoE layer's experts fused, so
 * TRL's gradients name `mlp.experts.gate_up_proj` [E, 2I, H] (each expert's gate_proj rows, then its
 * up_proj rows) and `mlp.experts.down_proj` [E, H, I]; the checkpoint (and this project) keep them
 * expert by expert. An expert no token reached has a zero gradient.
 */
function ourGrad(weights: { get(n: string): Tensor; maybe(n: string): Tensor | undefined }, name: string): Float32Array | null {
  const fused = /^(.*\.mlp\.experts)\.(gate_up_proj|down_proj)$/.exec(name);
  if (!fused) {
    const w = weights.get(name);
    return w.grad ? (T.floatData(w.grad) as Float32Array) : null;
  }
  const parts: Float32Array[] = [];
  for (let e = 0; ; e++) {
    const base = `${fused[1]}.${e}`;
    if (!weights.maybe(`${base}.down_proj.weight`)) break;
    for (const p of fused[2] === 'gate_up_proj' ? ['gate_proj', 'up_proj'] : ['down_proj']) {
      const w = weights.get(`${base}.${p}.weight`);
      parts.push(w.grad ? (T.floatData(w.grad) as Float32Array) : new Float32Array(w.size));
    }
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** The checkpoint names a reference parameter name covers. */
function ourNames(weights: { maybe(n: string): Tensor | undefined }, name: string): string[] {
  const fused = /^(.*\.mlp\.experts)\.(gate_up_proj|down_proj)$/.exec(name);
  if (!fused) return [name];
  const out: string[] = [];
  for (let e = 0; weights.maybe(`${fused[1]}.${e}.down_proj.weight`); e++) {
    for (const p of fused[2] === 'gate_up_proj' ? ['gate_proj', 'up_proj'] : ['down_proj']) out.push(`${fused[1]}.${e}.${p}.weight`);
  }
  return out;
}

for (const name of ['deepseek_v3_tiny', 'qwen2_tiny'] as const) {
  test(`${name}: GRPO log-probs, advantages, KL, losses and gradients match TRL`, () => {
    const { t: g, meta } = readFixture(name);
    const temperature = Number(meta.temperature);
    const beta = Number(meta.beta);
    const epsilonLow = Number(meta.epsilon_low);
    const epsilonHigh = Number(meta.epsilon_high);
    const C = Number(meta.max_completion_length);
    const G = Number(meta.num_generations);
    assert.ok(temperature > 0 && beta > 0 && C > 0 && G > 0, `fixture metadata: ${JSON.stringify(meta)}`);

    const mask = T.floatData(g.get('completion_mask')!) as Float32Array;
    const batch: CompletionBatch = {
      prompts: rows(g.get('prompt_ids')!),
      completions: rows(g.get('completion_ids')!).map((r, b) => r.filter((_, j) => mask[b * C + j] === 1)),
      width: C,
      padId: Number(meta.pad_id ?? 0),
    };

    // Advantages for each scale_rewards.
    const rewards = T.floatData(g.get('rewards')!);
    for (const s of SCALE_REWARDS) {
      const d = maxAbsDiff(groupAdvantages(rewards, G, s), T.floatData(g.get(`advantages.${s}`)!));
      assert.ok(d < 1e-3, `advantages.${s}: max |Δ| ${d}`);
    }

    const { model, weights } = loadModel(fixture('models', name), { dtype: 'f32' });
    const gradNames = (kind: string) =>
      [...g.keys()].filter((k) => k.startsWith(`grad.${kind}.`)).map((k) => k.slice(`grad.${kind}.`.length));
    for (const n of gradNames('grpo')) for (const o of ourNames(weights, n)) weights.get(o).requireGrad();
    assert.ok(gradNames('grpo').length > 0 && gradNames('dapo').length > 0);

    // Per-token log-probs at the temperature: every position, padding included.
    const base = T.noGrad(() => completionLogps(model, batch, temperature));
    const dLogp = maxAbsDiff(T.floatData(base.logps), T.floatData(g.get('per_token_logps')!));
    assert.ok(dLogp < 1e-3, `per_token_logps: max |Δ| ${dLogp}`);
    assert.deepEqual(Array.from(base.mask), Array.from(mask));

    const old = g.get('old_per_token_logps')!;
    const ref = g.get('ref_per_token_logps')!;
    const kl = k3Kl(base.logps, ref);
    const dKl = maxAbsDiff(T.floatData(kl), T.floatData(g.get('per_token_kl')!));
    assert.ok(dKl < 1e-3, `per_token_kl: max |Δ| ${dKl}`);

    const advantages = groupAdvantages(rewards, G, 'group');
    for (const lossType of LOSS_TYPES as readonly LossType[]) {
      for (const n of weights.names()) weights.get(n).grad = null;
      const { logps } = completionLogps(model, batch, temperature);
      const r = grpoLoss({
        logps,
        oldLogps: old,
        refLogps: ref,
        advantages,
        mask: base.mask,
        beta,
        epsilonLow,
        epsilonHigh,
        lossType,
        maxCompletionLength: C,
      });
      const want = g.get(`loss.${lossType}`)!.item();
      assert.ok(Math.abs(r.loss.item() - want) < 1e-4, `loss.${lossType}: ${r.loss.item()} vs ${want}`);
      const names = gradNames(lossType);
      if (names.length === 0) continue;
      T.backward(r.loss);
      for (const n of names) {
        const refGrad = T.floatData(g.get(`grad.${lossType}.${n}`)!);
        const got = ourGrad(weights, n);
        if (!got) {
          assert.ok(
            refGrad.every((v) => v === 0),
            `no gradient reached ${n} but TRL's is non-zero`,
          );
          continue;
        }
        assert.equal(got.length, refGrad.length, `grad.${lossType}.${n}: size`);
        const e = relErr(got, refGrad);
        assert.ok(e < 1e-3, `grad.${lossType}.${n}: relative error ${e}`);
      }
      // Every weight that got a gradient here has one in the reference too.
      const covered = new Set(names.flatMap((n) => ourNames(weights, n)));
      for (const n of weights.names()) if (weights.get(n).grad) assert.ok(covered.has(n), `${n} got a gradient TRL's model does not have`);
    }
  });
}
