// The planner against published numbers: DeepSeek-V3's parameters (the built-in config is the
// shared fixture's), its FLOPs per token against an independent hand count from the config fields,
// the MFU its reported GPU-hours imply, the report's stage table, and GPT-3's compute and the
// popular restatements of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConfig, type DeepseekV3Config } from '../../src/io/config.ts';
import { countParams } from '../../src/model/params.ts';
import {
  builtinModel,
  DEEPSEEK_V3_671B_CONFIG,
  DEEPSEEK_V3_REPORT as V3,
  GPT3,
  GPT3_CLAIMS,
  GPUS,
  flopsPerToken,
  gpuHours,
  impliedMfu,
  modelShape,
  stagedCost,
  sustainedRate,
  wallDays,
} from '../../src/plan/index.ts';
import { requireShared } from '../helpers/shared.ts';

const h800 = GPUS.find((g) => g.name === 'h800')!;
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

test('the built-in 671B config is the shared fixture config.json, and counts the published parameters', () => {
  const fixture = JSON.parse(readFileSync(requireShared('fixtures', 'params_671b.json'), 'utf8')) as {
    config: unknown;
    transformers_total_params_without_mtp: number;
  };
  assert.deepEqual(JSON.parse(JSON.stringify(DEEPSEEK_V3_671B_CONFIG)), fixture.config);
  const p = countParams(builtinModel('deepseek-v3-671b')!);
  assert.equal(p.total, fixture.transformers_total_params_without_mtp);
  assert.equal(countParams(parseConfig(fixture.config, 'fixture')).activated, p.activated);
});

/** Forward FLOPs per token of DeepSeek-V3, written out from the config fields (as third-party MFU estimates do). */
function handCount(c: DeepseekV3Config, seqLen: number) {
  const h = c.hiddenSize;
  const nh = c.numAttentionHeads;
  const attnProj =
    h * c.qLoraRank! +
    c.qLoraRank! * nh * c.qkHeadDim +
    h * (c.kvLoraRank + c.qkRopeHeadDim) +
    c.kvLoraRank * nh * (c.qkNopeHeadDim + c.vHeadDim) +
    nh * c.vHeadDim * h;
  const quad = 2 * nh * (c.qkHeadDim + c.vHeadDim) * ((seqLen + 1) / 2);
  const dense = 3 * h * c.intermediateSize;
  const moe = h * c.nRoutedExperts + (c.numExpertsPerTok + c.nSharedExperts) * 3 * h * c.moeIntermediateSize;
  const nDense = c.firstKDenseReplace;
  const nMoe = c.numHiddenLayers - nDense;
  const main = 2 * (c.numHiddenLayers * attnProj + nDense * dense + nMoe * moe) + c.numHiddenLayers * quad;
  const head = 2 * h * c.vocabSize;
  const mtp = 2 * (2 * h * h + attnProj + moe) + quad + head;
  return { main, head, mtp };
}

test('DeepSeek-V3 training FLOPs per token at 4K context match a hand count from the config, and 6N is 16% short of them', () => {
  const c = builtinModel('deepseek-v3-671b')! as DeepseekV3Config;
  const f = flopsPerToken(modelShape(c), { seqLen: V3.seqLen });
  const hand = handCount(c, V3.seqLen);
  assert.ok(rel(f.layers + f.attention, 3 * hand.main) < 1e-12, `${f.layers + f.attention} vs ${3 * hand.main}`);
  assert.ok(rel(f.head, 3 * hand.head) < 1e-12);
  assert.ok(rel(f.mtp, 3 * hand.mtp) < 1e-12, `${f.mtp} vs ${3 * hand.mtp}`);
  // The shortcut 6N leaves out attention's quadratic term and MTP.
  assert.ok(f.total > f.sixN * 1.1 && f.total < f.sixN * 1.3);
});

test("the MFU implied by 180K H800 GPU-hours per trillion tokens: ~39% of bf16 peak without MTP (third-party estimates: ~37%), ~20% of FP8's", () => {
  const s = modelShape(builtinModel('deepseek-v3-671b')!);
  const withMtp = flopsPerToken(s, { seqLen: V3.seqLen }).total;
  const noMtp = flopsPerToken(s, { seqLen: V3.seqLen, mtp: false }).total;
  const bf16 = impliedMfu(noMtp * 1e12, V3.gpuHoursPerTrillionTokens, h800.bf16);
  const fp8 = impliedMfu(withMtp * 1e12, V3.gpuHoursPerTrillionTokens, h800.fp8!);
  assert.ok(bf16 > 0.35 && bf16 < 0.42, `bf16 MFU ${bf16}`);
  assert.ok(fp8 > 0.18 && fp8 < 0.22, `fp8 MFU ${fp8}`);
  // And back: at that MFU the planner gives the reported hours for the 14.8T-token pre-training.
  assert.ok(rel(gpuHours(noMtp * V3.pretrainTokens, h800.bf16, bf16), V3.stages[0].gpuHours) < 1e-9);
});

test('DeepSeek-V3 Table 1: 2664K + 119K + 5K = 2.788M GPU-hours = $5.576M at $2; 180K per trillion tokens is 3.7 days on 2048 GPUs', () => {
  const t = stagedCost(V3.stages, V3.pricePerGpuHour);
  assert.equal(Math.round(t.gpuHours), V3.totalGpuHours);
  assert.equal(Math.round(t.cost), V3.totalCost);
  assert.equal(Math.round(V3.gpuHoursPerTrillionTokens * (V3.pretrainTokens / 1e12)), V3.stages[0].gpuHours);
  assert.equal(Math.round(wallDays(V3.gpuHoursPerTrillionTokens, V3.clusterGpus) * 10) / 10, V3.daysPerTrillionTokens);
});

test("GPT-3: 6·175B·300B is the paper's 3.14e23 FLOPs (3,640 petaflop/s-days); '355 years' is 28 TFLOP/s sustained, not an A100's 312", () => {
  const flops = 6 * GPT3.params * GPT3.tokens;
  assert.ok(rel(flops, GPT3.flops) < 0.005, `${flops}`);
  assert.ok(rel(GPT3.petaflopDays * 1e15 * 86400, GPT3.flops) < 0.005);
  const year = 365.25 * 24;
  const rate = sustainedRate(GPT3.flops, GPT3_CLAIMS.singleGpuYears * year);
  assert.ok(rate > 27e12 && rate < 29e12, `355 years means ${rate / 1e12} TFLOP/s`);
  const yearsAtPeak = gpuHours(GPT3.flops, GPT3_CLAIMS.a100Peak, 1) / year;
  assert.ok(yearsAtPeak > 31 && yearsAtPeak < 33, `${yearsAtPeak} years at 312 TFLOP/s`);
  // "3,640 A100s for a month" is the petaflop/s-day count read as GPUs: at peak it takes ~390.
  const gpusForAMonth = gpuHours(GPT3.flops, GPT3_CLAIMS.a100Peak, 1) / (30 * 24);
  assert.ok(gpusForAMonth > 380 && gpusForAMonth < 400, `${gpusForAMonth}`);
  assert.ok(GPT3_CLAIMS.gpusForAMonth / gpusForAMonth > 9);
});
